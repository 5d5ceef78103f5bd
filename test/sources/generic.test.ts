import type { Daemon } from '../../src/main';
import { drain, getJson, postJson, startTestDaemon, tempDir, testConfig } from '../helpers';

let daemon: Daemon;
let cleanup: () => void;
beforeEach(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  daemon = await startTestDaemon(testConfig(tmp.dir));
});
afterEach(async () => {
  await daemon.stop();
  cleanup();
});

const url = () => `${daemon.url}/api/v1/alerts/generic`;

test('normalized alerts from any tool: firing then resolved, identified by their labels when no id is given', async () => {
  const alert = { status: 'firing', labels: { alertname: 'BackupFailed', job: 'restic', instance: 'nas' }, annotations: { summary: 'nightly backup failed' } };
  expect((await postJson(url(), [alert])).json).toMatchObject({ outcomes: { opened: 1 } });
  expect((await postJson(url(), [alert])).json).toMatchObject({ outcomes: { duplicate: 1 } });
  await drain(daemon);
  expect((await postJson(url(), [{ ...alert, status: 'resolved' }])).json).toMatchObject({ outcomes: { resolved: 1 } });
  await drain(daemon);
  const { tickets } = await getJson<{ tickets: Array<{ status: string; subject: string }> }>(`${daemon.url}/api/v1/tickets`);
  expect(tickets).toEqual([expect.objectContaining({ status: 'solved', subject: '[NORMAL] BackupFailed on nas: nightly backup failed' })]);
});

test('an explicit id correlates firing and resolved even when labels change', async () => {
  await postJson(url(), [{ id: 'job-77', status: 'firing', labels: { alertname: 'Job', state: 'failing' } }]);
  expect((await postJson(url(), [{ id: 'job-77', status: 'resolved', labels: { alertname: 'Job', state: 'ok' } }])).json).toMatchObject({
    outcomes: { resolved: 1 },
  });
});

test.each([
  [{ status: 'firing', labels: {} }, ['0.labels']],
  [[{ status: 'up', labels: { 'bad-name': 'x' }, startsAt: 'now' }], ['0.status', '0.labels.bad-name', '0.startsAt']],
  [[], ['(body)']],
  [[{ status: 'firing', labels: { a: 'b' }, extra: 1 }], ['0']],
])('bad body %j: 400 with the paths, nothing stored', async (body, paths) => {
  const res = await postJson(url(), Array.isArray(body) ? body : [body]);
  expect(res.status).toBe(400);
  expect((res.json.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(paths);
  expect(await daemon.store.repos.faults.countByState()).toEqual({});
});
