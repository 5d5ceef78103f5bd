import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { startDaemon, type Daemon } from '../../src/main';
import type { Alert } from '../../src/sources';
import { tempDir } from '../helpers';

const RULES = `
categories:
  - name: svc
    match: ['alertname="ServiceDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 5, critical: 8, page: 10 } }
    ticket:
      subject: "{{labels.service}} is down"
  - name: db
    match: ['alertname="DatabaseDown"']
    fault_key: [service]
    severity: 3
    notify: { to: [dba@acme.example], events: [open, resolve] }
  - name: web
    match: ['alertname="WebDown"']
    fault_key: [service]
`;

interface Received {
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string | string[];
}

/** A real SMTP server on loopback; it can refuse recipients or be shut down and brought back. */
class Inbox {
  mails: Received[] = [];
  rejectRecipients = false;
  private server: SMTPServer | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (_address, _session, callback) => {
        if (this.rejectRecipients) callback(Object.assign(new Error('5.1.1 No such mailbox here'), { responseCode: 550 }));
        else callback();
      },
      onData: (stream, session, callback) => {
        simpleParser(stream).then(
          (mail: ParsedMail) => {
            this.mails.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
              messageId: mail.messageId,
              inReplyTo: mail.inReplyTo,
              references: mail.references,
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

let inbox: Inbox;
let daemon: Daemon;
let cleanup: () => void;
const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));

beforeEach(async () => {
  inbox = new Inbox();
  await inbox.start();
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  writeFileSync(path.join(tmp.dir, 'rules.yaml'), RULES);
  writeFileSync(
    path.join(tmp.dir, 'faultdesk.yaml'),
    `
email:
  smtp: { host: 127.0.0.1, port: ${inbox.port}, timeout: 2s }
  from: faultdesk@acme.example
  to: [oncall@acme.example]
  throttle: 30m
  digest: { threshold: 3, window: 1m, wait: 10s }
  link_base: https://faultdesk.acme.example
outbox: { backoff_initial: 1s, backoff_max: 1m }
`,
  );
  const config = loadConfig({
    file: path.join(tmp.dir, 'faultdesk.yaml'),
    env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'db.sqlite')}`, FAULTDESK_RULES: path.join(tmp.dir, 'rules.yaml') },
  });
  daemon = await startDaemon({ config, clock, logger: silentLogger(), startWorkers: false });
});
afterEach(async () => {
  await daemon.stop();
  await inbox.stop();
  cleanup();
});

function alert(service: string, opts: { severity?: string; status?: 'firing' | 'resolved'; name?: string; summary?: string; id?: string } = {}): Alert {
  return {
    source: 'alertmanager',
    sourceId: opts.id ?? `fp-${service}`,
    status: opts.status ?? 'firing',
    labels: { alertname: opts.name ?? 'ServiceDown', service, severity: opts.severity ?? 'critical' },
    annotations: { summary: opts.summary ?? `${service} is down`, runbook_url: 'https://runbooks.acme.example/svc' },
    startsAt: Date.parse('2026-11-24T11:59:00Z'),
    endsAt: opts.status === 'resolved' ? clock.now() : undefined,
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
    receivedAt: clock.now(),
  };
}

const ingest = (...alerts: Alert[]) => daemon.faults.ingest('alertmanager', alerts);
async function drain() {
  while ((await daemon.outbox.runOnce()) > 0);
}
const metric = (name: string) => daemon.metrics.registry.getSingleMetricAsString(name);

test('an open fault at FS ≥ 7 mails the default recipients, with the ticket, and HTML escaped', async () => {
  await ingest(alert('checkout', { summary: 'checkout <script>alert(1)</script> & "friends"' }));
  await ingest(alert('batch', { severity: 'warning' })); // FS 5: below the threshold, no mail
  await drain();
  expect(inbox.mails).toEqual([]); // open mails wait a moment for a possible storm
  clock.advance(10_000);
  await drain();
  expect(inbox.mails).toHaveLength(1);
  const [mail] = inbox.mails;
  expect(mail!.to).toEqual(['oncall@acme.example']);
  expect(mail!.subject).toBe('[faultdesk] Opened: checkout is down');
  const [fault] = await daemon.store.repos.faults.list({ category: 'svc', limit: 10, offset: 0, state: 'open' }).then((l) => l.filter((f) => f.fault_key.includes('checkout')));
  for (const part of [
    'Fault:     svc {service="checkout"} (open)',
    'Severity:  FS 8/10, priority high',
    `Ticket:    local ${fault!.ticket_id}`,
    'Runbook:   https://runbooks.acme.example/svc',
    `faultdesk: https://faultdesk.acme.example/api/v1/faults/${fault!.id}`,
    '- [firing] alertname="ServiceDown", service="checkout", severity="critical" since 2026-11-24 11:59:00 UTC (1m ago)',
    'Opened:    2026-11-24 12:00:00 UTC (just now)',
    'http://prometheus:9090/graph?g0.expr=up',
  ]) {
    expect(mail!.text).toContain(part);
  }
  expect(mail!.text).toMatch(/Repair: {4}estimated 1h36m\d+s, due 2026-11-24 13:36:\d\d UTC \(in 1h 36m\)/);
  expect(mail!.html).not.toContain('<script>');
  expect(mail!.html).toContain('<code>alertname&#x3D;&quot;ServiceDown&quot;, service&#x3D;&quot;checkout&quot;, severity&#x3D;&quot;critical&quot;</code>');
  expect(await metric('faultdesk_emails_sent_total')).toContain('event="open"} 1');
});

test('a category names its own recipients and events, whatever the severity', async () => {
  await ingest(alert('orders-db', { name: 'DatabaseDown' }));
  clock.advance(10_000);
  await drain();
  await ingest(alert('orders-db', { name: 'DatabaseDown', status: 'resolved' }));
  await drain();
  expect(inbox.mails.map((m) => [m.to.join(','), m.subject])).toEqual([
    ['dba@acme.example', '[faultdesk] Opened: [LOW] DatabaseDown on orders-db: orders-db is down'],
    ['dba@acme.example', '[faultdesk] Resolved: [LOW] DatabaseDown on orders-db: orders-db is down'],
  ]);
  expect(inbox.mails[1]!.text).toContain('State open → resolved');
});

test('mails about one fault thread together: the first has the fault\'s Message-ID, later ones answer it', async () => {
  await ingest(alert('orders-db', { name: 'DatabaseDown' }));
  clock.advance(10_000);
  await drain();
  await ingest(alert('orders-db', { name: 'DatabaseDown', status: 'resolved' }));
  await drain();
  const [fault] = await daemon.store.repos.faults.list({ category: 'db', limit: 1, offset: 0 });
  const root = `<faultdesk.fault.${fault!.id}@acme.example>`;
  expect(inbox.mails).toHaveLength(2);
  expect(inbox.mails[0]).toMatchObject({ messageId: root });
  expect(inbox.mails[0]!.inReplyTo).toBeUndefined();
  expect(inbox.mails[1]).toMatchObject({ inReplyTo: root, references: root, messageId: expect.stringMatching(/^<faultdesk\.fault\.[0-9a-f-]+\.\d+@acme\.example>$/) });
  expect(inbox.mails[1]!.messageId).not.toBe(root);
});

test('at most one mail per fault and event kind per throttle interval; it says what changed since the last mail', async () => {
  await ingest(alert('checkout', { severity: 'warning' }));
  await ingest(alert('checkout', { severity: 'critical', id: 'b' })); // escalate 5 → 8
  await drain();
  clock.advance(60_000);
  await ingest(alert('checkout', { severity: 'page', id: 'c' })); // escalate 8 → 10: throttled
  await drain();
  expect(inbox.mails.map((m) => m.subject)).toEqual(['[faultdesk] Escalated: checkout is down']);
  expect(await metric('faultdesk_emails_suppressed_total')).toContain('reason="throttle"} 1');
  clock.advance(30 * 60_000);
  await ingest(alert('checkout', { severity: 'page', id: 'd', status: 'firing' }));
  await ingest({ ...alert('checkout', { id: 'e' }), labels: { alertname: 'ServiceDown', service: 'checkout', severity: 'page', extra: 'x' } });
  await drain();
  // No rise in FS after the 10: no escalation, so no second mail; the throttle interval alone does not mail.
  expect(inbox.mails).toHaveLength(1);
});

test('a storm of opens becomes one digest', async () => {
  for (const s of ['a', 'b', 'c', 'd', 'e']) await ingest(alert(`svc-${s}`));
  await drain();
  clock.advance(10_000);
  await drain();
  expect(inbox.mails).toHaveLength(1);
  const [digest] = inbox.mails;
  expect(digest!.subject).toBe('[faultdesk] 5 faults opened: svc');
  for (const s of ['a', 'b', 'c', 'd', 'e']) expect(digest!.text).toContain(`[HIGH] svc-${s} is down`);
  expect(await metric('faultdesk_emails_suppressed_total')).toContain('reason="digest"} 5');
  expect(await metric('faultdesk_emails_sent_total')).toContain('event="digest"} 1');
});

test('a digest lists each fault\'s priority once, most urgent first, then in the order they opened', async () => {
  // FS: error 7 and critical 8 are both priority high; page 9 is urgent.
  const severities: Array<[string, string]> = [['a', 'error'], ['b', 'page'], ['c', 'critical'], ['d', 'page'], ['e', 'critical']];
  for (const [s, severity] of severities) {
    await ingest({ ...alert(`web-${s}`, { name: 'WebDown', severity, summary: `web-${s} answers 503` }) });
    clock.advance(1_000);
  }
  await drain();
  clock.advance(10_000);
  await drain();
  expect(inbox.mails).toHaveLength(1);
  const lines = inbox.mails[0]!.text.split('\n').filter((l) => l.startsWith('- ['));
  expect(lines).toEqual([
    '- [URGENT] WebDown on web-b: web-b answers 503',
    '- [URGENT] WebDown on web-d: web-d answers 503',
    '- [HIGH] WebDown on web-a: web-a answers 503',
    '- [HIGH] WebDown on web-c: web-c answers 503',
    '- [HIGH] WebDown on web-e: web-e answers 503',
  ]);
  expect(inbox.mails[0]!.html).not.toContain('[HIGH]');
  expect(inbox.mails[0]!.html).toMatch(/<td>urgent<\/td><td><a href="[^"]+">WebDown on web-b: web-b answers 503<\/a>/);
});

test('a subject template that throws still sends the mail, with a fallback headline, and is counted', async () => {
  const category = daemon.rules().category('svc')!;
  category.ticket.subject = { source: '{{lower x}}', render: () => { throw new Error('Missing helper: "lower"'); } };
  await ingest(alert('checkout'));
  clock.advance(10_000);
  await drain();
  expect(inbox.mails.map((m) => m.subject)).toEqual(['[faultdesk] Opened: [HIGH] ServiceDown on checkout: checkout is down [subject template failed]']);
  expect(await metric('faultdesk_template_errors_total')).toContain('category="svc",template="subject"}');
});

test('an SMTP outage delays the mail; it arrives once when the server is back', async () => {
  const port = inbox.port;
  await inbox.stop();
  await ingest(alert('checkout'));
  clock.advance(10_000);
  await drain();
  expect((await daemon.store.repos.outbox.list({ system: 'email', limit: 10, offset: 0 })).map((o) => o.state)).toEqual(['pending']);
  expect(await metric('faultdesk_emails_failed_total')).toContain('reason="connection"} 1');
  await inbox.start(port);
  clock.advance(5_000);
  await drain();
  clock.advance(60_000);
  await drain();
  expect(inbox.mails).toHaveLength(1);
  expect(inbox.mails[0]!.subject).toBe('[faultdesk] Opened: checkout is down');
});

test('a permanent rejection (5xx) is recorded and not retried', async () => {
  inbox.rejectRecipients = true;
  await ingest(alert('checkout'));
  clock.advance(10_000);
  await drain();
  const [op] = await daemon.store.repos.outbox.list({ system: 'email', limit: 10, offset: 0 });
  expect(op).toMatchObject({ state: 'parked', last_error: expect.stringMatching(/^SMTP 550 5\.1\.1 No such mailbox here/) });
  expect(await metric('faultdesk_emails_failed_total')).toContain('reason="rejected"} 1');
  inbox.rejectRecipients = false;
  clock.advance(3_600_000);
  await drain();
  expect(inbox.mails).toEqual([]);
});
