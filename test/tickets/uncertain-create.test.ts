import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeZendesk } from '../fake-zendesk';
import { FakeServiceNow } from './fake-servicenow';
import { liveTicketTestbed, type LiveTicketTestbed } from './setup';

// A create whose answer never arrives (the ticket system was slow, or the
// connection dropped) may still have made the ticket. These tests run the
// daemon as in production (real clock, its own workers) against fakes on
// loopback that make the ticket late or drop the connection after making it,
// and require exactly one live ticket per fault, the one the fault points to.

const RULES = `
categories:
  - name: svc
    match: ['alertname="ServiceDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 5, critical: 9 } }
    ticket:
      subject: "{{labels.service}} is down on {{labels.host}}"
`;
// The request timeout is short so the tests are quick; the settle time after
// an uncertain create is left at its default (three timeouts).
const TIMEOUT_MS = 300;
const OUTBOX = `
outbox:
  poll_interval: 50ms
  backoff_initial: 100ms
  backoff_max: 1s
`;
const PASSWORD = 'sn-pa55word';

let bed: LiveTicketTestbed;

async function outboxDone(id: string) {
  const ops = await bed.daemon.store.repos.outbox.listByFault(id);
  return ops.length > 0 && ops.every((o) => o.state === 'done') ? true : undefined;
}

/** The fault once its create has been delivered (or parked, which these tests then report). */
async function deliveredFault(id: string, timeoutMs = 10_000) {
  await bed.until(async () => {
    const ops = await bed.daemon.store.repos.outbox.listByFault(id);
    if (ops.some((o) => o.state === 'parked')) throw new Error(`create parked: ${ops.map((o) => o.last_error).join('; ')}`);
    return outboxDone(id);
  }, timeoutMs);
  return (await bed.daemon.store.repos.faults.get(id))!;
}

/** Waits until the first attempt has failed and the operation waits for its retry. */
async function firstAttemptFailed(id: string) {
  return bed.until(async () => {
    const [op] = await bed.daemon.store.repos.outbox.listByFault(id);
    return op && op.attempts >= 1 && op.state === 'pending' && op.last_error ? op : undefined;
  });
}

async function duplicatesMetric() {
  return bed.daemon.metrics.registry.getSingleMetricAsString('faultdesk_ticket_duplicates_total');
}

describe('ServiceNow', () => {
  let sn: FakeServiceNow;
  beforeEach(async () => {
    sn = new FakeServiceNow({ username: 'faultdesk', password: PASSWORD });
    await sn.start();
    bed = await liveTicketTestbed(
      (dir) => `
tickets:
  default: servicenow
  servicenow:
    url: ${sn.url}
    username: faultdesk
    password_file: ${dir}/sn-pass
    timeout: ${TIMEOUT_MS}ms
    requests_per_minute: 60000
${OUTBOX}`,
      RULES,
      { 'sn-pass': PASSWORD },
    );
  });
  afterEach(async () => {
    await bed.stop();
    await sn.stop();
    expect(sn.ignoredQuery).toEqual([]);
  });

  test('a create answered after the timeout (the insert still happens) makes one incident, which the fault adopts', async () => {
    // The insert lands 2.5 timeouts after the request: after the client gave up,
    // but before the retry looks it up (the old retry came after ~100 ms and made a second incident).
    sn.createFaults = [{ delayMs: 2.5 * TIMEOUT_MS }];
    const started = Date.now();
    const id = (await bed.fire('checkout'))!;
    const fault = await deliveredFault(id);
    await bed.until(async () => (Date.now() - started > 4 * TIMEOUT_MS ? true : undefined));
    expect(sn.incidents.filter((i) => i.correlation_id === id)).toHaveLength(1);
    expect(sn.live(id).map((i) => i.sys_id)).toEqual([fault.ticket_id]);
    expect(await outboxDone(id)).toBe(true);
  });

  test('a create whose connection drops after the insert makes one incident, which the fault adopts', async () => {
    sn.createFaults = [{ drop: true }];
    const id = (await bed.fire('checkout'))!;
    const fault = await deliveredFault(id);
    expect(sn.incidents.filter((i) => i.correlation_id === id)).toHaveLength(1);
    expect(sn.live(id).map((i) => i.sys_id)).toEqual([fault.ticket_id]);
  });

  test('a duplicate the instance made anyway is found after the create: the oldest stays, the other is canceled naming it, and it is counted', async () => {
    // The first insert is so slow that it lands only between the retry's look-up and its create.
    sn.createFaults = [{ holdUntilNextCreate: true }];
    const id = (await bed.fire('checkout'))!;
    const fault = await deliveredFault(id);
    const all = sn.incidents.filter((i) => i.correlation_id === id);
    expect(all).toHaveLength(2);
    const [oldest, duplicate] = all;
    expect(sn.live(id).map((i) => i.sys_id)).toEqual([oldest!.sys_id]);
    expect(fault.ticket_id).toBe(oldest!.sys_id);
    expect(duplicate!.state).toBe('8');
    expect(duplicate!.journal).toEqual([{ field: 'work_notes', text: expect.stringContaining(`duplicate of ${oldest!.number}`) }]);
    // The record goes to the incident that is worked on.
    expect(oldest!.attachments.map((a) => a.file_name)).toEqual([`faultdesk-fault-${id}.md`, `faultdesk-fault-${id}.json`]);
    expect(duplicate!.attachments).toEqual([]);
    expect(await duplicatesMetric()).toContain('faultdesk_ticket_duplicates_total{system="servicenow"} 1');
    expect(bed.logs()).toMatch(/"message":"ticket system made a duplicate ticket; canceled it"/);
  });
});

describe('Zendesk', () => {
  let zd: FakeZendesk;
  beforeEach(async () => {
    zd = new FakeZendesk();
    await zd.start();
    bed = await liveTicketTestbed(
      (dir) => `
tickets:
  default: zendesk
  zendesk:
    url: ${zd.url}
    email: ops@acme.com
    token_file: ${dir}/zd-token
    timeout: ${TIMEOUT_MS}ms
    requests_per_minute: 60000
${OUTBOX}`,
      RULES,
      { 'zd-token': 'zd-token' },
    );
  });
  afterEach(async () => {
    await bed.stop();
    await zd.stop();
  });

  const creates = (id: string) => zd.calls.filter((c) => c.kind === 'create' && c.faultId === id);

  test('a create answered after the timeout (the ticket is still made) makes one ticket, which the fault adopts', async () => {
    zd.createFaults = [{ delayMs: 2.5 * TIMEOUT_MS }];
    const started = Date.now();
    const id = (await bed.fire('checkout'))!;
    const fault = await deliveredFault(id);
    await bed.until(async () => (Date.now() - started > 4 * TIMEOUT_MS ? true : undefined));
    expect(zd.creates().get(id)).toBe(1);
    expect(zd.live(id).map((t) => String(t.id))).toEqual([fault.ticket_id]);
  });

  test('a create whose connection drops after the ticket was made makes one ticket, which the fault adopts', async () => {
    zd.createFaults = [{ drop: true }];
    const id = (await bed.fire('checkout'))!;
    const fault = await deliveredFault(id);
    expect(zd.creates().get(id)).toBe(1);
    expect(zd.live(id).map((t) => String(t.id))).toEqual([fault.ticket_id]);
  });

  test('a retry while the first create is still in flight sends the same Idempotency-Key and bytes, and a 409 means "later"', async () => {
    // Slower than the settle time: the retry's look-up finds nothing and the create is sent again.
    zd.createFaults = [{ delayMs: 10 * TIMEOUT_MS }];
    const id = (await bed.fire('checkout'))!;
    // The fault changes meanwhile: a new body would be rendered, but the retry must not send it under the same key.
    await firstAttemptFailed(id);
    await bed.fire('checkout', { id: 'fp-2' });
    const fault = await deliveredFault(id, 20_000);
    expect(zd.creates().get(id)).toBe(1);
    expect(zd.live(id).map((t) => String(t.id))).toEqual([fault.ticket_id]);
    const sent = creates(id);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent[0]!.idempotency).toBe('miss');
    expect(sent.slice(1).every((c) => c.idempotency === 'hit')).toBe(true);
    // Every repeat carried the first request's key and bytes: none was refused, a repeat in flight got 409.
    expect(new Set(sent.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(sent.map((c) => c.status)).not.toContain(400);
    expect(sent.map((c) => c.status)).toContain(409);
  });

  test('after a restart lost the first request, a duplicate made anyway is solved, renamed and counted; the oldest stays', async () => {
    zd.createFaults = [{ holdUntilNextCreate: true }];
    const id = (await bed.fire('checkout'))!;
    await firstAttemptFailed(id);
    await bed.restart();
    const fault = await deliveredFault(id);
    expect(zd.creates().get(id)).toBe(2);
    const [oldest, duplicate] = zd.tickets;
    expect(zd.live(id).map((t) => t.id)).toEqual([oldest!.id]);
    expect(fault.ticket_id).toBe(String(oldest!.id));
    expect(duplicate).toMatchObject({ status: 'solved', external_id: `${id}-duplicate-of-${oldest!.id}` });
    expect(duplicate!.comments[duplicate!.comments.length - 1]).toContain(`duplicate of ticket #${oldest!.id}`);
    expect(await duplicatesMetric()).toContain('faultdesk_ticket_duplicates_total{system="zendesk"} 1');
  });
});

describe('a create refused before anything was sent', () => {
  test('is retried with backoff, not after the settle time: no ticket can exist', async () => {
    // A port nothing listens on: the connection is refused, a certain failure.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    bed = await liveTicketTestbed(
      (dir) => `
tickets:
  default: servicenow
  servicenow:
    url: http://127.0.0.1:${port}
    username: faultdesk
    password_file: ${dir}/sn-pass
    timeout: ${TIMEOUT_MS}ms
    create_settle: 1h
outbox:
  poll_interval: 50ms
  backoff_initial: 1s
`,
      RULES,
      { 'sn-pass': PASSWORD },
    );
    try {
      const id = (await bed.fire('checkout'))!;
      const op = await firstAttemptFailed(id);
      expect(op.last_error).toBe('servicenow POST /api/now/table/incident: ECONNREFUSED');
      expect(op.next_attempt_at - op.updated_at).toBeLessThanOrEqual(1000);
    } finally {
      await bed.stop();
    }
  });
});
