import { ManualClock } from '../../src/clock';
import { KnownAlerts } from '../../src/faults';
import { contentHash } from '../../src/faults/known-alerts';
import type { Daemon } from '../../src/main';
import type { RuleEngine } from '../../src/rules';
import type { Alert } from '../../src/sources';
import type { AlertRow } from '../../src/store';
import { startTestDaemon, tempDir, testConfig } from '../helpers';

const T0 = Date.parse('2026-11-24T10:00:00Z');

function alert(over: Partial<Alert> = {}): Alert {
  return {
    source: 'alertmanager',
    sourceId: 'fp1',
    status: 'firing',
    labels: { alertname: 'NodeDown', instance: 'web-1' },
    annotations: { summary: 'web-1 is down' },
    startsAt: T0,
    generatorURL: 'http://prometheus/graph',
    receivedAt: T0,
    ...over,
  };
}

function row(over: Partial<AlertRow> = {}): AlertRow {
  return {
    id: 7,
    fault_id: 'f1',
    ident: 'alertmanager:fp1',
    source: 'alertmanager',
    source_id: 'fp1',
    status: 'firing',
    labels: JSON.stringify({ alertname: 'NodeDown', instance: 'web-1' }),
    annotations: JSON.stringify({ summary: 'web-1 is down' }),
    starts_at: T0,
    ends_at: null,
    generator_url: 'http://prometheus/graph',
    fs: 5,
    first_received_at: T0,
    last_received_at: T0,
    ...over,
  } as AlertRow;
}

const live = { id: 'f1', current: true, state: 'open' };
const engine = {} as RuleEngine;

function known(max = 100): KnownAlerts {
  const k = new KnownAlerts({ touchResolutionMs: 5_000, maxEntries: max });
  k.useRules(engine);
  return k;
}

describe('KnownAlerts', () => {
  test('a firing alert of a live fault, sent again unchanged, is a repeat of that fault', () => {
    const k = known();
    k.learn([{ record: row(), fault: live }]);
    expect(k.repeat(alert(), 'alertmanager:fp1', T0 + 1000)).toEqual({ faultId: 'f1' });
  });

  test.each([
    ['another annotation', alert({ annotations: { summary: 'web-1 is down again' } })],
    ['another label', alert({ labels: { alertname: 'NodeDown', instance: 'web-1', extra: 'x' } })],
    ['the same labels in another order (their JSON differs)', alert({ labels: { instance: 'web-1', alertname: 'NodeDown' } })],
    ['another generator URL', alert({ generatorURL: 'http://other/graph' })],
    ['a resolve', alert({ status: 'resolved' })],
    ['a note', alert({ note: { kind: 'comment', text: 'acked' } })],
  ])('%s is not a repeat', (_what, changed) => {
    const k = known();
    k.learn([{ record: row(), fault: live }]);
    expect(k.repeat(changed, 'alertmanager:fp1', T0 + 1000)).toBeUndefined();
  });

  test('the content hash tells apart texts that only join alike', () => {
    const h = (l: Record<string, string>, a: Record<string, string> = {}, url?: string) => contentHash(l, a, url);
    expect(h({ a: 'bc' })).toBe(h({ a: 'bc' }));
    expect(h({ a: 'bc' })).not.toBe(h({ ab: 'c' }));
    expect(h({ a: '' })).not.toBe(h({}));
    expect(h({ a: 'x' }, {})).not.toBe(h({}, { a: 'x' }));
    expect(h({ a: 'x' }, {}, 'u')).not.toBe(h({ a: 'x' }, { u: '' }));
    expect(h({ a: 'x' }, {}, '')).not.toBe(h({ a: 'x' }));
    expect(Number.isSafeInteger(h({ a: 'x' }))).toBe(true);
  });

  test('alerts of resolved or superseded faults, resolved alerts, and alerts firing in two faults are forgotten', () => {
    const k = known();
    k.learn([
      { record: row({ ident: 'a' }), fault: live },
      { record: row({ ident: 'b' }), fault: live },
      { record: row({ ident: 'c' }), fault: live },
      { record: row({ ident: 'd' }), fault: live },
    ]);
    expect(k.size).toBe(4);
    k.learn([
      { record: row({ ident: 'a' }), fault: { ...live, state: 'resolved' } },
      { record: row({ ident: 'b' }), fault: { ...live, current: false } },
      { record: row({ ident: 'c', status: 'resolved' }), fault: live },
      { record: row({ ident: 'd', fault_id: 'f1' }), fault: live },
      { record: row({ ident: 'd', fault_id: 'f2' }), fault: { ...live, id: 'f2' } },
    ]);
    expect(k.size).toBe(0);
  });

  test('another rule set, or forget(), clears what is known', () => {
    const k = known();
    k.learn([{ record: row(), fault: live }]);
    k.useRules(engine);
    expect(k.size).toBe(1);
    k.useRules({} as RuleEngine);
    expect(k.size).toBe(0);
    k.learn([{ record: row(), fault: live }]);
    k.forget();
    expect(k.repeat(alert(), 'alertmanager:fp1', T0)).toBeUndefined();
  });

  test('a repeat past the resolution queues one touch of its row; a row without an id takes the full path', () => {
    const k = known();
    k.learn([{ record: row(), fault: live }]);
    k.repeat(alert(), 'alertmanager:fp1', T0 + 4_999);
    expect(k.takeTouches().size).toBe(0);
    k.repeat(alert(), 'alertmanager:fp1', T0 + 5_000);
    k.repeat(alert(), 'alertmanager:fp1', T0 + 6_000); // within the resolution of the queued one
    expect([...k.takeTouches()]).toEqual([[7, T0 + 5_000]]);
    expect(k.takeTouches().size).toBe(0);

    const fresh = known();
    const unsaved: Partial<AlertRow> = row();
    delete unsaved.id;
    fresh.learn([{ record: unsaved as AlertRow, fault: live }]);
    expect(fresh.repeat(alert(), 'alertmanager:fp1', T0 + 1_000)).toEqual({ faultId: 'f1' });
    expect(fresh.repeat(alert(), 'alertmanager:fp1', T0 + 5_000)).toBeUndefined();
  });

  test('past the limit the oldest alerts are forgotten', () => {
    const k = known(2);
    k.learn([{ record: row({ ident: 'a' }), fault: live }]);
    k.learn([{ record: row({ ident: 'b' }), fault: live }]);
    k.learn([{ record: row({ ident: 'c' }), fault: live }]);
    expect(k.size).toBe(2);
    expect(k.repeat(alert(), 'a', T0)).toBeUndefined();
    expect(k.repeat(alert(), 'c', T0)).toEqual({ faultId: 'f1' });
  });
});

describe('repeats answered from memory by a daemon on SQLite', () => {
  let daemon: Daemon;
  let clock: ManualClock;
  let cleanup: () => void;
  beforeEach(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    clock = new ManualClock(T0);
    daemon = await startTestDaemon(testConfig(tmp.dir), clock);
  });
  afterEach(async () => {
    await daemon.stop();
    cleanup();
  });

  const ingest = (a: Alert) => daemon.faults.ingest('alertmanager', [a]);
  const stored = async (faultId: string) => (await daemon.store.repos.alerts.listByFault(faultId))[0] as AlertRow;

  test('the last-seen time of a repeat is written by the next flush, rounded down to the second', async () => {
    const opened = await ingest(alert());
    const faultId = opened.faults[0] as string;
    clock.advance(10_500); // within the resolution (30 s): nothing to write
    expect((await ingest(alert({ receivedAt: clock.now() }))).outcomes).toEqual({ duplicate: 1 });
    expect(await daemon.faults.flushTouches()).toBe(0);
    clock.advance(20_000);
    expect((await ingest(alert({ receivedAt: clock.now() }))).outcomes).toEqual({ duplicate: 1 });
    expect((await stored(faultId)).last_received_at).toBe(T0);
    expect(await daemon.faults.flushTouches()).toBe(1);
    expect((await stored(faultId)).last_received_at).toBe(T0 + 30_000);
  });

  test('after the stale sweep resolved the fault, the alert firing again reopens it instead of passing as a repeat', async () => {
    const opened = await ingest(alert());
    expect((await ingest(alert())).outcomes).toEqual({ duplicate: 1 });
    clock.advance(25 * 3_600_000);
    expect(await daemon.faults.sweepStale([{ afterMs: 24 * 3_600_000, sources: ['alertmanager'], resends: true }])).toBe(1);
    // Memory would call this a repeat (the start time is no news to a firing alert); the store knows better.
    const again = await ingest(alert({ startsAt: clock.now() - 60_000, receivedAt: clock.now() }));
    expect(again.outcomes).toEqual({ reopened: 1 });
    expect(again.faults).toEqual(opened.faults);
  });

  test('in one payload, a change and a repeat of the same alert apply in order', async () => {
    await ingest(alert());
    const changed = alert({ annotations: { summary: 'web-1 is down, disk full' } });
    const result = await daemon.faults.ingest('alertmanager', [changed, alert()]);
    // The second delivery restores the first summary: a change too, not a repeat answered from memory.
    expect(result.outcomes).toEqual({ updated: 2 });
    const row = await stored(result.faults[0] as string);
    expect(JSON.parse(row.annotations)).toEqual({ summary: 'web-1 is down' });
  });
});
