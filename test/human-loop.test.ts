import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/log';
import { startDaemon, type Daemon } from '../src/main';
import { amPayload, drain, getJson, postJson, tempDir } from './helpers';

// The on-call actions of the human loop through the API, on local tickets: what an engineer without
// a ticket system does, and what the tickets, the timeline and the metrics then say.

const MIN = 60_000;
const RULES = `
categories:
  - name: svc
    match: ['alertname="SvcDown"']
    fault_key: [service]
    repair_time: { a: 1, b: 0.5 }
    tier: L1
`;

let daemon: Daemon;
let clock: ManualClock;
let cleanup: () => void;

beforeEach(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  writeFileSync(path.join(tmp.dir, 'rules.yaml'), RULES);
  writeFileSync(path.join(tmp.dir, 'faultdesk.yaml'), 'tiers: { escalate: { on_due: true } }\nfaults: { after_human_close: { action: new_ticket } }\n');
  clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));
  daemon = await startDaemon({
    config: loadConfig({
      file: path.join(tmp.dir, 'faultdesk.yaml'),
      env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'db.sqlite')}`, FAULTDESK_RULES: path.join(tmp.dir, 'rules.yaml') },
    }),
    clock,
    logger: silentLogger(),
    startWorkers: false,
  });
});
afterEach(async () => {
  await daemon.stop();
  cleanup();
});

const fire = (status: 'firing' | 'resolved' = 'firing', startsAt = '2026-11-24T09:59:00Z') =>
  postJson(`${daemon.url}/api/v1/alerts/alertmanager`, amPayload([{ status, labels: { alertname: 'SvcDown', service: 'checkout' }, fingerprint: 'f1a2b3c4', startsAt, ...(status === 'resolved' ? { endsAt: '2026-11-24T10:30:00Z' } : {}) }]));

interface FaultView {
  id: string;
  state: string;
  tier: string | null;
  acknowledged: { by: string } | null;
  closedByHuman: { by: string; code: string | null } | null;
  tierHistory: Array<{ tier: string; reason: string; by?: string }>;
  timeline: { entries: Array<{ event: string; by?: string; via?: string; detail?: string }> };
}
const fault = (id: string) => getJson<FaultView>(`${daemon.url}/api/v1/faults/${id}`);
const tickets = async () =>
  (await getJson<{ tickets: Array<{ id: string; faultId: string; status: string; body: string; fields: Record<string, unknown>; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`)).tickets;

test('ack, comment, assign and close through the API: on the timeline with who did it, and on the local ticket', async () => {
  const id = ((await fire()).json.faults as string[])[0]!;
  await drain(daemon);
  expect((await fault(id)).tier).toBe('L1');
  expect((await tickets())[0]!.fields).toMatchObject({ group: 'L1' });

  expect((await postJson(`${daemon.url}/api/v1/faults/${id}/ack`, { by: 'grace', text: 'on it' })).json.fault).toMatchObject({ acknowledged: { by: 'grace' } });
  await postJson(`${daemon.url}/api/v1/faults/${id}/comment`, { by: 'grace', text: 'switch port flapping; replacing the cable' });
  expect((await postJson(`${daemon.url}/api/v1/faults/${id}/assign`, { by: 'grace', tier: 'L9' })).status).toBe(400);
  await postJson(`${daemon.url}/api/v1/faults/${id}/assign`, { by: 'grace', tier: 'L3' });
  await drain(daemon);
  const ticket = (await tickets())[0]!;
  expect(ticket.comments.map((c) => c.body)).toEqual([
    expect.stringMatching(/^Acknowledged by grace: on it/),
    expect.stringMatching(/^Comment by grace: switch port flapping; replacing the cable/),
    expect.stringMatching(/^Moved to L3 by grace: reassigned\./),
  ]);
  expect(ticket.fields).toMatchObject({ group: 'L3' });

  let view = await fault(id);
  expect(view.timeline.entries.filter((e) => e.by).map((e) => [e.event, e.by, e.via])).toEqual([
    ['acknowledged', 'grace', 'api'],
    ['comment', 'grace', 'api'],
    ['tier_changed', 'grace', 'api'],
  ]);
  expect(view.tierHistory.map((t) => [t.tier, t.reason])).toEqual([
    ['L1', 'start'],
    ['L3', 'reassigned'],
  ]);
  expect((await getJson<{ faults: unknown[] }>(`${daemon.url}/api/v1/faults?tier=L3&acknowledged=true`)).faults).toHaveLength(1);
  expect((await getJson<{ faults: unknown[] }>(`${daemon.url}/api/v1/faults?acknowledged=false`)).faults).toHaveLength(0);

  await postJson(`${daemon.url}/api/v1/faults/${id}/close`, { by: 'grace', code: 'wont_fix', text: 'known issue, replacing the switch next week' });
  await drain(daemon);
  expect((await tickets())[0]!.status).toBe('closed');
  view = await fault(id);
  expect(view.closedByHuman).toMatchObject({ by: 'grace', code: 'wont_fix' });

  // It resolves and fires again within reopen_within: the closed ticket is left alone; a new fault
  // and ticket name the closed one (after_human_close: new_ticket).
  clock.advance(30 * MIN);
  await fire('resolved');
  clock.advance(5 * MIN);
  const again = await fire('firing', '2026-11-24T10:34:00Z');
  expect(again.json.outcomes).toEqual({ opened: 1 });
  await drain(daemon);
  const all = await tickets();
  expect(all.map((t) => t.status).sort()).toEqual(['closed', 'open']);
  expect(all.find((t) => t.status === 'open')!.body).toMatch(new RegExp(`Follows closed ticket ${ticket.id}`));
  expect(all.find((t) => t.status === 'closed')!.comments).toHaveLength(4);
});

test('a fault past its due time moves up a tier, counted in the metrics', async () => {
  const id = ((await fire()).json.faults as string[])[0]!;
  await drain(daemon);
  clock.advance(3 * 60 * MIN);
  await daemon.jobs.find((j) => j.name === 'at_risk')!.run();
  await drain(daemon);
  expect((await fault(id)).tier).toBe('L2');
  const text = await daemon.metrics.registry.metrics();
  expect(text).toMatch(/faultdesk_tier_escalations_total\{tier="L2"\} 1/);
  expect(text).toMatch(/faultdesk_faults_by_tier\{tier="L2"\} 1/);
  expect((await tickets())[0]!.comments.map((c) => c.body)).toEqual([expect.stringMatching(/^At risk:/), expect.stringMatching(/^Moved to L2: the due time passed unsolved\./)]);
});

test('bad bodies are refused with their field paths; an unknown fault is a 404', async () => {
  const id = ((await fire()).json.faults as string[])[0]!;
  const bad = await postJson(`${daemon.url}/api/v1/faults/${id}/comment`, { text: '' });
  expect(bad.status).toBe(400);
  expect(bad.json.errors).toEqual([expect.objectContaining({ path: 'text' })]);
  expect((await postJson(`${daemon.url}/api/v1/faults/${id}/ack`, { by: 'x', extra: 1 })).status).toBe(400);
  expect((await postJson(`${daemon.url}/api/v1/faults/nope/ack`, {})).status).toBe(404);
  expect((await fault(id)).acknowledged).toBeNull();
});
