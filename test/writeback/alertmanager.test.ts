import { writeFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { ManualClock } from '../../src/clock';
import type { Config } from '../../src/config';
import type { Daemon } from '../../src/main';
import { drain, fixture, getJson, postJson, startTestDaemon, tempDir, testConfig } from '../helpers';

// Write-back to an Alertmanager HA pair, through the whole daemon: ingest, an operator's ack, the
// outbox worker, and the silence requests as nock sees them. The first peer is down throughout.
const AM1 = 'http://am1.example.invalid:9093';
const AM2 = 'http://am2.example.invalid:9093';
const HOUR = 3_600_000;

let daemon: Daemon;
let cleanup: () => void;
let clock: ManualClock;

function amWriteback(extra: Partial<NonNullable<NonNullable<Config['writeback']>['alertmanager']>> = {}): Config['writeback'] {
  return { dry_run: false, alertmanager: { urls: [AM1, AM2], silence_for: 2 * HOUR, timeout: 2_000, ...extra } };
}

async function start(writeback: Config['writeback'], rules?: string): Promise<void> {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  if (rules !== undefined) writeFileSync(path.join(tmp.dir, 'rules.yaml'), rules);
  const config = testConfig(tmp.dir, rules !== undefined ? { FAULTDESK_RULES: path.join(tmp.dir, 'rules.yaml') } : {});
  config.writeback = writeback;
  clock = new ManualClock(Date.parse('2026-11-24T16:30:00Z'));
  daemon = await startTestDaemon(config, clock);
}

async function openFault(): Promise<string> {
  await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, fixture('am-firing.json'));
  await drain(daemon);
  const { faults } = await getJson<{ faults: Array<{ id: string }> }>(`${daemon.url}/api/v1/faults`);
  return faults[0]!.id;
}

async function act(id: string, action: string, body: object = {}): Promise<void> {
  const res = await postJson(`${daemon.url}/api/v1/faults/${id}/${action}`, body);
  expect(res.status).toBe(200);
  await drain(daemon);
}

type Detail = { writeback: Array<{ system: string; ref: string; active: boolean; until: string }>; operations: Array<{ system: string; kind: string; state: string; lastError: string | null }>; ticket: { id: string } };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  nock.cleanAll();
  await daemon?.stop();
  cleanup?.();
});

test('an ack becomes a silence on the peer that answers; the renewal job extends it; resolving expires it', async () => {
  await start(amWriteback());
  const id = await openFault();
  const posted: Array<Record<string, unknown>> = [];
  nock(AM1).persist().post('/api/v2/silences').replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
  nock(AM1).persist().delete(/.*/).replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
  nock(AM2)
    .persist()
    .post('/api/v2/silences', (b: Record<string, unknown>) => posted.push(b) > 0)
    .reply(200, { silenceID: 'a2b1c3d4-0000-4000-8000-000000000001' });

  await act(id, 'ack', { by: 'grace@acme' });
  expect(posted).toHaveLength(1);
  const detail = await getJson<Detail>(`${daemon.url}/api/v1/faults/${id}`);
  expect(posted[0]).toEqual({
    // The key of category target-down is job and instance; alertname is added, as the key lacks it.
    matchers: [
      { name: 'alertname', value: 'TargetDown', isRegex: false, isEqual: true },
      { name: 'instance', value: '127.0.0.1:9999', isRegex: false, isEqual: true },
      { name: 'job', value: 'flaky', isRegex: false, isEqual: true },
    ],
    startsAt: '2026-11-24T16:30:00.000Z',
    endsAt: '2026-11-24T18:30:00.000Z',
    createdBy: 'faultdesk',
    comment: expect.stringMatching(new RegExp(`^Acknowledged by grace@acme in faultdesk: fault ${id} \\(target-down\\), local ticket #${detail.ticket.id}`)),
  });
  expect(detail.writeback).toEqual([{ system: 'alertmanager', ref: 'a2b1c3d4-0000-4000-8000-000000000001', active: true, until: '2026-11-24T18:30:00.000Z', updatedAt: expect.any(String) }]);
  expect(detail.operations.filter((o) => o.system === 'alertmanager')).toEqual([expect.objectContaining({ kind: 'acknowledge', state: 'done' })]);

  // Less than half of the silence is left: the job extends it, naming the silence and keeping its start
  // (Alertmanager extends an active silence in place only then).
  nock(AM1).persist().get(/\/api\/v2\/silence\/.*/).replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
  nock(AM2)
    .persist()
    .get('/api/v2/silence/a2b1c3d4-0000-4000-8000-000000000001')
    .reply(200, { id: 'a2b1c3d4-0000-4000-8000-000000000001', startsAt: '2026-11-24T16:30:00.000Z', status: { state: 'active' } });
  nock(AM1).persist().get('/api/v2/alerts').reply(200, []);
  nock(AM2)
    .persist()
    .get('/api/v2/alerts')
    .reply(200, [{ fingerprint: '666825508c4c5f74', labels: { alertname: 'TargetDown' }, status: { state: 'suppressed' } }]);
  const renew = daemon.jobs.find((j) => j.name === 'writeback_renew')!;
  clock.advance(HOUR - 60_000);
  await renew.run();
  await drain(daemon);
  expect(posted).toHaveLength(1);
  clock.advance(2 * 60_000);
  await renew.run();
  await drain(daemon);
  expect(posted).toHaveLength(2);
  expect(posted[1]).toMatchObject({ id: 'a2b1c3d4-0000-4000-8000-000000000001', startsAt: '2026-11-24T16:30:00.000Z', endsAt: '2026-11-24T19:31:00.000Z' });
  expect((await getJson<{ state: string }>(`${daemon.url}/api/v1/faults/${id}`)).state).toBe('open');

  // The alert resolves: the silence is expired.
  let deleted = '';
  nock(AM2)
    .delete(/\/api\/v2\/silence\/.*/)
    .reply(200, function reply(uri) {
      deleted = uri;
      return '';
    });
  await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, fixture('am-resolved.json'));
  await drain(daemon);
  expect(deleted).toBe('/api/v2/silence/a2b1c3d4-0000-4000-8000-000000000001');
  const after = await getJson<Detail>(`${daemon.url}/api/v1/faults/${id}`);
  expect(after.writeback[0]).toMatchObject({ active: false });
  const metrics = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/faultdesk_writeback_operations_total\{system="alertmanager",action="acknowledge",result="ok"\} 2\n/);
  expect(metrics).toMatch(/faultdesk_writeback_operations_total\{system="alertmanager",action="release",result="ok"\} 1\n/);
});

test('a silence that is gone by the time it is expired (404, or 500 "silence not found") counts as expired', async () => {
  await start(amWriteback({ urls: [AM2] }));
  const id = await openFault();
  nock(AM2).post('/api/v2/silences').reply(200, { silenceID: 's-1' });
  await act(id, 'ack');
  nock(AM2).delete('/api/v2/silence/s-1').reply(404);
  await act(id, 'unack');
  let detail = await getJson<Detail>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.operations.filter((o) => o.system === 'alertmanager').map((o) => `${o.kind}:${o.state}`)).toEqual(['acknowledge:done', 'release:done']);

  nock(AM2).post('/api/v2/silences').reply(200, { silenceID: 's-2' });
  await act(id, 'ack');
  // Alertmanager 0.25 answers an id it does not know with 500 "silence not found".
  nock(AM2).delete('/api/v2/silence/s-2').reply(500, '"silence not found"');
  await act(id, 'unack');
  detail = await getJson<Detail>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.writeback[0]).toMatchObject({ ref: 's-2', active: false });
  expect(detail.operations.filter((o) => o.system === 'alertmanager').every((o) => o.state === 'done')).toBe(true);
});

test('a person expired the silence in Alertmanager: faultdesk does not put it back', async () => {
  await start(amWriteback({ urls: [AM2] }));
  const id = await openFault();
  nock(AM2).post('/api/v2/silences').reply(200, { silenceID: 's-1' });
  await act(id, 'ack');
  nock(AM2).get('/api/v2/silence/s-1').reply(200, { id: 's-1', startsAt: '2026-11-24T16:30:00.000Z', status: { state: 'expired' } });
  nock(AM2).get('/api/v2/alerts').reply(200, [{ fingerprint: '666825508c4c5f74', labels: {}, status: { state: 'active' } }]);
  clock.advance(HOUR + 1_000);
  await daemon.jobs.find((j) => j.name === 'writeback_renew')!.run();
  await drain(daemon);
  const detail = await getJson<Detail>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.writeback[0]).toMatchObject({ ref: 's-1', active: false });
  expect(nock.pendingMocks()).toEqual([]);
});

test('a 401 parks the write-back with its reason, visible in the outbox, and the ticket goes on regardless', async () => {
  await start(amWriteback({ urls: [AM2], bearer_token: 'am-secret-token' }));
  const id = await openFault();
  let auth = '';
  nock(AM2)
    .post('/api/v2/silences')
    .reply(401, function reply() {
      auth = String(this.req.headers.authorization);
      return 'unauthorized';
    });
  await act(id, 'ack', { by: 'grace@acme' });
  expect(auth).toBe('Bearer am-secret-token');
  const { operations } = await getJson<{ operations: Array<{ system: string; state: string; lastError: string }> }>(`${daemon.url}/api/v1/outbox?system=alertmanager`);
  expect(operations).toEqual([expect.objectContaining({ system: 'alertmanager', state: 'parked', lastError: expect.stringContaining('HTTP 401') })]);
  expect(operations[0]!.lastError).not.toContain('am-secret-token');
  // The ticket operation of the same ack (a comment on the local ticket) was delivered.
  const detail = await getJson<Detail>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.operations.filter((o) => o.system === 'local').every((o) => o.state === 'done')).toBe(true);
  const metrics = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/faultdesk_writeback_errors_total\{system="alertmanager",reason="unauthorized"\} 1\n/);
});

test('a 5xx from every peer is retried, not parked', async () => {
  await start(amWriteback());
  const id = await openFault();
  nock(AM1).post('/api/v2/silences').reply(503, 'not ready');
  nock(AM2).post('/api/v2/silences').reply(502, 'bad gateway');
  await postJson(`${daemon.url}/api/v1/faults/${id}/ack`, {});
  await daemon.outbox.runOnce();
  const { operations } = await getJson<{ operations: Array<{ state: string; lastError: string }> }>(`${daemon.url}/api/v1/outbox?system=alertmanager`);
  expect(operations).toEqual([expect.objectContaining({ state: 'pending', lastError: expect.stringContaining('HTTP 502') })]);
});

test('dry run: logs what would be written and calls nobody', async () => {
  await start({ ...amWriteback(), dry_run: true });
  const id = await openFault();
  await act(id, 'ack');
  const metrics = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/faultdesk_writeback_operations_total\{system="alertmanager",action="acknowledge",result="dry_run"\} 1\n/);
  const detail = await getJson<Detail>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.writeback).toEqual([]);
  expect(nock.pendingMocks()).toEqual([]);
});

test('a muted alert resolves in Alertmanager, which tells nobody: the job asks the peers, and an alert it saw there and that is gone resolves the fault', async () => {
  await start(amWriteback());
  const id = await openFault();
  nock(AM1).post('/api/v2/silences').reply(200, { silenceID: 's-1' });
  await act(id, 'ack');
  const fingerprint = '666825508c4c5f74';
  const job = daemon.jobs.find((j) => j.name === 'writeback_renew')!;
  // Never seen in this cluster (another Alertmanager may send it): not taken for resolved.
  nock(AM1).get('/api/v2/alerts').reply(200, []);
  nock(AM2).get('/api/v2/alerts').reply(200, []);
  await job.run();
  await drain(daemon);
  expect((await getJson<{ state: string }>(`${daemon.url}/api/v1/faults/${id}`)).state).toBe('open');
  // Still held and muted by one peer (the other restarted and knows nothing): the fault stays open.
  nock(AM1).get('/api/v2/alerts').reply(200, []);
  nock(AM2)
    .get('/api/v2/alerts')
    .reply(200, [{ fingerprint, labels: { alertname: 'TargetDown', job: 'flaky', instance: '127.0.0.1:9999' }, annotations: {}, startsAt: '2026-11-24T16:25:24.046Z', status: { state: 'suppressed', silencedBy: ['s-1'] } }]);
  await job.run();
  await drain(daemon);
  expect((await getJson<{ state: string }>(`${daemon.url}/api/v1/faults/${id}`)).state).toBe('open');
  // No peer answers: nothing is concluded.
  nock(AM1).get('/api/v2/alerts').replyWithError({ code: 'ECONNREFUSED', message: 'refused' });
  nock(AM2).get('/api/v2/alerts').reply(503);
  await job.run();
  expect((await getJson<{ state: string }>(`${daemon.url}/api/v1/faults/${id}`)).state).toBe('open');
  // Gone from both: resolved, and the silence is expired.
  nock(AM1).get('/api/v2/alerts').reply(200, []);
  nock(AM2).get('/api/v2/alerts').reply(200, []);
  nock(AM1).delete('/api/v2/silence/s-1').reply(200);
  await job.run();
  await drain(daemon);
  const detail = await getJson<Detail & { state: string }>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.state).toBe('resolved');
  expect(detail.writeback[0]).toMatchObject({ ref: 's-1', active: false });
});

test('a category with writeback: false: the ack is recorded, nothing is written back', async () => {
  await start(amWriteback(), 'categories:\n  - name: quiet-targets\n    match: [alertname="TargetDown"]\n    fault_key: [job, instance]\n    writeback: false\n');
  const id = await openFault();
  await act(id, 'ack', { by: 'grace@acme' });
  const detail = await getJson<Detail & { acknowledged: unknown }>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.acknowledged).toMatchObject({ by: 'grace@acme' });
  expect(detail.operations.filter((o) => o.system === 'alertmanager')).toEqual([]);
  expect(detail.writeback).toEqual([]);
});
