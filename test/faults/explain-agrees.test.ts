import fc from 'fast-check';
import { ManualClock } from '../../src/clock';
import { explainAlerts, FaultService, RepeatCache, sampleTicketContext, ticketSubject } from '../../src/faults';
import { silentLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { compileRuleSources, RuleEngine, type RuleContext } from '../../src/rules';
import type { Alert } from '../../src/sources';
import { openStore } from '../../src/store';

// explain is ingest on a rolled-back transaction: for any sequence of alerts, what explain says of the
// next alert is what ingesting it then does (outcome, category, key, and the ticket's subject).

const MIN = 60_000;
const context: RuleContext = {
  defaultSystem: 'local',
  systems: ['local'],
  systemFields: {},
  updateIntervalMs: 5 * MIN,
  reopenWithinMs: 30 * MIN,
  flapping: { changes: 3, windowMs: 60 * MIN, quietMs: 10 * MIN },
  sampleContext: sampleTicketContext,
};
const engine = new RuleEngine(
  compileRuleSources(
    [
      {
        file: 'r.yaml',
        text: `categories:
  - name: keyed
    match: ['alertname="Down"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 4, critical: 8 } }
  # No fault_key: a fault is one alert's identity, and its subject says where from the alert's labels.
  - name: unkeyed
    match: ['alertname="Cpu"']
  - name: noise
    match: ['alertname="Noise"']
    action: drop
`,
      },
    ],
    context,
  ),
);

const alertArb = fc.record({
  id: fc.integer({ min: 0, max: 4 }),
  name: fc.constantFrom('Down', 'Cpu', 'Noise'),
  service: fc.constantFrom('checkout', 'cart'),
  severity: fc.constantFrom('warning', 'critical'),
  summary: fc.constantFrom('down', 'still down'),
  status: fc.constantFrom('firing', 'resolved'),
  startsAgoMin: fc.integer({ min: 0, max: 3 }),
  afterMin: fc.integer({ min: 0, max: 45 }),
});

test('explain and ingest agree on outcome, category, key and subject for any sequence of alerts', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(alertArb, { minLength: 1, maxLength: 14 }), async (steps) => {
      const store = await openStore({ url: 'sqlite::memory:' });
      const clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));
      const repeats = new RepeatCache(store, silentLogger(), 24 * 60 * MIN);
      const faults = new FaultService({ store, rules: () => engine, clock, logger: silentLogger(), metrics: createMetrics(), repeats });
      try {
        for (const s of steps) {
          clock.advance(s.afterMin * MIN);
          const now = clock.now();
          const alert: Alert = {
            source: 'alertmanager',
            sourceId: `fp${s.id}-${s.name}`,
            status: s.status as Alert['status'],
            labels: { alertname: s.name, service: s.service, instance: `host-${s.id}:80`, severity: s.severity },
            annotations: { summary: s.summary },
            startsAt: now - s.startsAgoMin * MIN,
            endsAt: s.status === 'resolved' ? now : undefined,
            receivedAt: now,
          };
          const [explained] = await explainAlerts([alert], engine, store, now);
          const result = await faults.ingest('alertmanager', [alert]);
          const outcome = Object.keys(result.outcomes)[0];
          expect({ step: s, outcome: explained!.outcome }).toEqual({ step: s, outcome });
          const faultId = result.faults[0];
          if (!faultId) continue;
          const fault = (await store.repos.faults.get(faultId))!;
          expect([explained!.category, explained!.key]).toEqual([fault.category, fault.fault_key]);
          const subject = ticketSubject(fault, await store.repos.alerts.listByFault(faultId), engine.category(fault.category));
          expect(explained!.subject).toBe(subject);
        }
      } finally {
        await repeats.stop();
        await store.close();
      }
    }),
    { numRuns: 60 },
  );
}, 120_000);

test('an unkeyed category: explain shows the subject the ticket gets, with where it is', async () => {
  const store = await openStore({ url: 'sqlite::memory:' });
  try {
    const now = Date.parse('2026-11-24T10:00:00Z');
    const alert: Alert = { source: 'generic', sourceId: 'x', status: 'firing', labels: { alertname: 'Cpu', instance: 'host-1:80' }, annotations: {}, startsAt: now, receivedAt: now };
    const [e] = await explainAlerts([alert], engine, store, now);
    expect(e?.subject).toContain('host-1:80');
  } finally {
    await store.close();
  }
});
