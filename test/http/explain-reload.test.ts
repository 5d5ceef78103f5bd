import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { startDaemon, type Daemon } from '../../src/main';
import { amPayload, postJson, tempDir } from '../helpers';

let dir: string;
let cleanup: () => void;
let daemon: Daemon;
const rulesFile = () => path.join(dir, 'rules', 'r.yaml');

const RULES_V1 = `categories:
  - name: old-web
    match: ['job="web"']
    fault_key: [instance]
`;
const RULES_V2 = `categories:
  - name: new-web
    match: ['job="web"']
    fault_key: [instance]
    severity: 9
`;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  mkdirSync(path.join(dir, 'rules'));
  writeFileSync(rulesFile(), RULES_V1);
  writeFileSync(path.join(dir, 'faultdesk.yaml'), `rules: ${path.join(dir, 'rules')}\nauth: { admin: { bearer_token: admin-123 } }\n`);
  const env = { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
  const configFile = path.join(dir, 'faultdesk.yaml');
  daemon = await startDaemon({ config: loadConfig({ file: configFile, env }), configFile, env, logger: silentLogger(), startWorkers: false });
});
afterEach(async () => {
  await daemon.stop();
  cleanup();
});

const ADMIN = { Authorization: 'Bearer admin-123' };
const web = (instance: string, fp: string) => ({ labels: { alertname: 'Down', job: 'web', instance }, fingerprint: fp });

function rowCounts() {
  const db = new BetterSqlite3(path.join(dir, 'db.sqlite'), { readonly: true });
  try {
    return ['faults', 'alerts', 'outbox'].map((t) => (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n);
  } finally {
    db.close();
  }
}

describe('explain', () => {
  test('Alertmanager: categories tried, the one chosen, and what would happen, with no side effect', async () => {
    const body = amPayload([web('a:80', 'aa'), { labels: { alertname: 'Other', job: 'batch' }, fingerprint: 'bb' }]);
    let res = await postJson(`${daemon.url}/api/v1/explain`, body, ADMIN);
    expect(res.status).toBe(200);
    expect(res.json.source).toBe('alertmanager');
    const [first, second] = res.json.alerts as Array<Record<string, unknown>>;
    expect(first).toMatchObject({
      tried: [{ category: 'old-web', matched: true }],
      category: 'old-web',
      key: '{instance="a:80"}',
      fs: 5,
      priority: 'normal',
      wouldDo: 'open',
      fault: null,
      subject: '[NORMAL] Down on a:80',
    });
    expect(second).toMatchObject({
      tried: [
        { category: 'old-web', matched: false, failedMatcher: 'job="web"' },
        { category: 'uncategorized', matched: true },
      ],
      category: 'uncategorized',
      wouldDo: 'open',
    });
    expect(rowCounts()).toEqual([0, 0, 0]);

    await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, amPayload([web('a:80', 'aa')]), ADMIN);
    const before = rowCounts();
    res = await postJson(`${daemon.url}/api/v1/explain`, amPayload([web('a:80', 'aa'), web('a:80', 'cc')]), ADMIN);
    expect((res.json.alerts as Array<{ wouldDo: string }>).map((a) => a.wouldDo)).toEqual(['duplicate', 'join']);
    res = await postJson(`${daemon.url}/api/v1/explain`, amPayload([{ ...web('a:80', 'aa'), status: 'resolved' }]), ADMIN);
    expect((res.json.alerts as Array<{ wouldDo: string }>).map((a) => a.wouldDo)).toEqual(['resolve']);
    // A payload's alerts apply in order, as ingest applies them: with cc joined, aa's resolve leaves the fault open.
    res = await postJson(`${daemon.url}/api/v1/explain`, amPayload([web('a:80', 'cc'), { ...web('a:80', 'aa'), status: 'resolved' }]), ADMIN);
    expect((res.json.alerts as Array<{ wouldDo: string; outcome: string }>).map((a) => [a.wouldDo, a.outcome])).toEqual([
      ['join', 'updated'],
      ['update', 'updated'],
    ]);
    expect(rowCounts()).toEqual(before);
  });

  test.each([
    ['zabbix', { event_id: '1', event_value: '1', event_nseverity: '4', host_name: 'h', trigger_name: 'Linux: High CPU utilization' }, 'uncategorized'],
    ['nagios', { notification_type: 'PROBLEM', host_name: 'h', service_desc: 'Disk', service_state: 'CRITICAL', service_problem_id: '3' }, 'uncategorized'],
    ['generic', [{ status: 'firing', labels: { job: 'web', instance: 'z' } }], 'old-web'],
  ])('%s payloads, told apart by their shape', async (source, body, category) => {
    const res = await postJson(`${daemon.url}/api/v1/explain`, body, ADMIN);
    expect(res.json).toMatchObject({ source, alerts: [expect.objectContaining({ category, wouldDo: 'open' })] });
  });

  test('JSON is told by its content: curl --data-binary sends it as a form and it is still Alertmanager', async () => {
    const res = await postJson(`${daemon.url}/api/v1/explain`, amPayload([web('a:80', 'aa')]), { ...ADMIN, 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ source: 'alertmanager', alerts: [expect.objectContaining({ category: 'old-web' })] });
    // A real form is still Nagios.
    const form = await postJson(`${daemon.url}/api/v1/explain`, 'notification_type=PROBLEM&host_name=h&service_desc=Disk&service_state=CRITICAL&service_problem_id=3', {
      ...ADMIN,
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(form.json).toMatchObject({ source: 'nagios' });
  });

  test('an unknown shape or a bad payload is a 400', async () => {
    expect((await postJson(`${daemon.url}/api/v1/explain`, { hello: 1 }, ADMIN)).json.error).toMatch(/cannot tell the source/);
    const bad = await postJson(`${daemon.url}/api/v1/explain?source=alertmanager`, { version: '4' }, ADMIN);
    expect(bad.status).toBe(400);
    expect((bad.json.errors as Array<{ path: string }>).map((e) => e.path)).toContain('alerts');
  });
});

describe('reload', () => {
  const metric = async () => {
    const text = await daemon.metrics.registry.metrics();
    return {
      ok: /faultdesk_config_last_reload_successful (\d)/.exec(text)?.[1],
      at: Number(/faultdesk_config_last_reload_success_timestamp_seconds (\S+)/.exec(text)?.[1]),
    };
  };

  test('a good reload swaps the rules; open faults keep their category and key', async () => {
    await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, amPayload([web('a:80', 'aa')]), ADMIN);
    writeFileSync(rulesFile(), RULES_V2);
    expect((await postJson(`${daemon.url}/-/reload`, {})).status).toBe(401);
    const res = await postJson(`${daemon.url}/-/reload`, {}, ADMIN);
    expect(res.json).toEqual({ status: 'success', files: 1, categories: 1, restartRequired: [] });
    expect((await metric()).ok).toBe('1');
    // New alerts follow the new rules; the open fault keeps its category, key and alerts, and its
    // alert still resolves it.
    const next = await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, amPayload([web('b:80', 'cc'), { ...web('a:80', 'aa'), status: 'resolved' }]), ADMIN);
    expect(next.json.outcomes).toEqual({ opened: 1, resolved: 1 });
    const faults = await daemon.store.repos.faults.list({ limit: 10, offset: 0 });
    expect(faults.map((f) => [f.category, f.fault_key, f.state, f.severity]).sort()).toEqual([
      ['new-web', '{instance="b:80"}', 'open', 9],
      ['old-web', '{instance="a:80"}', 'resolved', 5],
    ]);
  });

  test('a broken file keeps the running rules and says why', async () => {
    const before = await metric();
    writeFileSync(rulesFile(), "categories:\n  - name: new-web\n    match: ['job=~\"(\"']\n");
    const res = await postJson(`${daemon.url}/-/reload`, {}, ADMIN);
    expect(res.status).toBe(500);
    expect(res.json).toEqual({
      status: 'error',
      error: 'reload failed; the running rules are kept',
      errors: [expect.stringMatching(new RegExp(`^${rulesFile()}:3:13: invalid regular expression`))],
    });
    expect(await metric()).toEqual({ ok: '0', at: before.at });
    expect(daemon.rules().categories.map((c) => c.name)).toEqual(['old-web']);
    const explain = await postJson(`${daemon.url}/api/v1/explain`, amPayload([web('x', 'dd')]), ADMIN);
    expect((explain.json.alerts as Array<{ category: string }>)[0]!.category).toBe('old-web');
  });

  test('alerts that arrive during reloads see the old rules or the new, never a mix within a request', async () => {
    for (let round = 0; round < 10; round++) {
      writeFileSync(rulesFile(), round % 2 === 0 ? RULES_V2 : RULES_V1);
      const inFlight: Array<Promise<unknown>> = [];
      for (let k = 0; k < 3; k++) {
        const i = round * 3 + k;
        inFlight.push(postJson(`${daemon.url}/api/v1/alerts/alertmanager`, amPayload(Array.from({ length: 20 }, (_, j) => web(`r${i}-h${j}`, (i * 100 + j).toString(16).padStart(8, '0')))), ADMIN));
        if (k === 1) inFlight.push(daemon.reload());
      }
      await Promise.all(inFlight);
    }
    const faults = await daemon.store.repos.faults.list({ limit: 1000, offset: 0 });
    expect(faults).toHaveLength(600);
    const byRequest = new Map<string, Set<string>>();
    for (const f of faults) {
      const req = /r(\d+)-/.exec(f.fault_key)![1]!;
      byRequest.set(req, (byRequest.get(req) ?? new Set()).add(f.category));
    }
    for (const categories of byRequest.values()) expect(categories.size).toBe(1);
    expect(new Set(faults.map((f) => f.category))).toEqual(new Set(['old-web', 'new-web']));
  });

  test('a reload applies the stale sweep, estimates and satisfaction settings, and names the settings that need a restart', async () => {
    const configFile = path.join(dir, 'faultdesk.yaml');
    expect(daemon.jobs.find((j) => j.name === 'stale_sweep')).toBeDefined();
    writeFileSync(
      configFile,
      `rules: ${path.join(dir, 'rules')}\nauth: { admin: { bearer_token: admin-123 } }\nlisten: 127.0.0.1:1\n` +
        `faults: { stale_after: 1m, stale_sources: [generic] }\nsatisfaction: { window: 2h }\noutbox: { concurrency: 9 }\n`,
    );
    const res = await postJson(`${daemon.url}/-/reload`, {}, ADMIN);
    expect(res.json).toEqual({ status: 'success', files: 1, categories: 1, restartRequired: ['outbox'] });
    expect((await daemon.satisfaction.summary()).windowHours).toBe(2);
    // A generic alert not refreshed for a minute is now stale (it was not, at 24 h and Alertmanager only).
    await postJson(`${daemon.url}/api/v1/alerts/generic`, [{ status: 'firing', labels: { job: 'web', instance: 'g' } }], ADMIN);
    const sweep = daemon.jobs.find((j) => j.name === 'stale_sweep')!;
    await new Promise((r) => setTimeout(r, 5));
    const db = new BetterSqlite3(path.join(dir, 'db.sqlite'));
    db.prepare('update alerts set last_received_at = last_received_at - 120000').run();
    db.close();
    await sweep.run();
    const faults = await daemon.store.repos.faults.list({ limit: 10, offset: 0 });
    expect(faults.map((f) => f.state)).toEqual(['resolved']);
  });

  test('turning watch_rules on takes a reload, not a restart', async () => {
    writeFileSync(path.join(dir, 'faultdesk.yaml'), `rules: ${path.join(dir, 'rules')}\nauth: { admin: { bearer_token: admin-123 } }\nwatch_rules: true\n`);
    expect((await postJson(`${daemon.url}/-/reload`, {}, ADMIN)).json).toMatchObject({ status: 'success', restartRequired: [] });
    writeFileSync(rulesFile(), RULES_V2);
    for (let i = 0; i < 50 && daemon.rules().categories[0]?.name !== 'new-web'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(daemon.rules().categories[0]?.name).toBe('new-web');
  });

  test('the rules folder is watched when watch_rules is on', async () => {
    await daemon.stop();
    writeFileSync(path.join(dir, 'faultdesk.yaml'), `rules: ${path.join(dir, 'rules')}\nwatch_rules: true\n`);
    const env = { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
    const configFile = path.join(dir, 'faultdesk.yaml');
    daemon = await startDaemon({ config: loadConfig({ file: configFile, env }), configFile, env, logger: silentLogger(), startWorkers: false });
    writeFileSync(rulesFile(), RULES_V2);
    for (let i = 0; i < 50 && daemon.rules().categories[0]?.name !== 'new-web'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(daemon.rules().categories[0]?.name).toBe('new-web');
  });
});
