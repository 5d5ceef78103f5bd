import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fixture, postJson, REPO, tempDir } from './helpers';
import { freePort, spawnDaemon } from './process';

// `faultdesk fault resolve` acts through the running daemon's API, with the admin credentials of its config.

const run = promisify(execFile);

test('faultdesk fault resolve: the fault resolves, by the named person, with the reason; bad ids and no daemon are clear errors', async () => {
  const tmp = tempDir();
  const port = await freePort();
  const config = path.join(tmp.dir, 'faultdesk.yaml');
  writeFileSync(path.join(tmp.dir, 'admin'), 'admin-secret-1\n');
  writeFileSync(config, `listen: 127.0.0.1:${port}\nrules: ${path.join(REPO, 'rules')}\nauth: { admin: { bearer_token_file: ${path.join(tmp.dir, 'admin')} } }\n`);
  const env = { FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'db.sqlite')}`, FAULTDESK_LISTEN: `127.0.0.1:${port}` };
  const daemon = await spawnDaemon(env, config);
  const cli = (...args: string[]) => run(process.execPath, [path.join(REPO, 'dist/cli.js'), ...args, '--config', config], { cwd: REPO, env: { ...process.env, ...env } });
  try {
    const admin = { Authorization: 'Bearer admin-secret-1' };
    const opened = await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, fixture('am-firing.json'), admin);
    const id = (opened.json.faults as string[])[0]!;
    const { stdout } = await cli('fault', 'resolve', id, '--reason', 'target retired', '--by', 'grace');
    expect(stdout).toMatch(new RegExp(`^${id}\\tresolved\\t`));
    const detail = (await (await fetch(`${daemon.url}/api/v1/faults/${id}`, { headers: admin })).json()) as { timeline: { entries: Array<{ event: string; by?: string; detail?: string }> } };
    expect(detail.timeline.entries).toContainEqual(expect.objectContaining({ event: 'resolved_by_hand', by: 'grace', detail: 'Resolved by grace (cli): target retired' }));
    await expect(cli('fault', 'resolve', id, '--reason', 'again')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/409: fault .* is already resolved/) });
    await expect(cli('fault', 'resolve', 'nope', '--reason', 'x')).rejects.toMatchObject({ stderr: expect.stringMatching(/404: fault nope not found/) });
    await expect(cli('fault', 'resolve', id, '--reason', 'x', '--url', 'http://127.0.0.1:1')).rejects.toMatchObject({ stderr: expect.stringMatching(/cannot reach the daemon at http:\/\/127\.0\.0\.1:1/) });
    // The ticket operations the daemon delivered, for one system only.
    await new Promise((r) => setTimeout(r, 500));
    const local = (await cli('outbox', 'list', '--state', 'done', '--system', 'local')).stdout;
    expect(local).toMatch(new RegExp(`\\tlocal\\tcreate\\t${id}\\t`));
    expect(local).toMatch(/\d+ done operation\(s\)\n$/);
    expect((await cli('outbox', 'list', '--state', 'done', '--system', 'zendesk')).stdout).toBe('0 done operation(s)\n');
  } finally {
    daemon.child.kill('SIGTERM');
    await new Promise((r) => daemon.child.once('exit', r));
    tmp.cleanup();
  }
});
