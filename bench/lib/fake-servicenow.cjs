// A strict stand-in for ServiceNow's Table API (incident table) and Attachment
// API on loopback, for the connector's failure tests. Shapes follow
// shared/reference/ticket-systems.md: values come back as strings, errors as
// {"error": {"message", "detail"}, "status": "failure"}, resolving needs
// close_code and close_notes (a data policy), closed and canceled incidents are
// read-only, and unknown parts of an encoded query are silently ignored (as the
// real instance does by default; they are recorded in `ignoredQuery`).
//
// Fault injection: `createFaults` is a queue; each create takes the next entry:
// `{ delayMs }` commits and answers only after that long (a client with a
// shorter timeout gives up while the insert still happens), `{ drop: true }`
// commits and then destroys the connection without an answer,
// `{ holdUntilNextCreate: true }` commits only when the next create arrives,
// just before that one (a slow insert that lands between a client's look-up
// and its second create).
const { randomBytes } = require('node:crypto');
const express = require('express');

const TABLE = '/api/now/table/incident';
const READ_ONLY_STATES = new Set(['7', '8']);
const RESOLVED_STATES = new Set(['6', '7']);

function failure(res, status, message, detail) {
  res.status(status).json({ error: { message, detail }, status: 'failure' });
}

/** ServiceNow's date-time format, in UTC, to the second. */
function glideDateTime(ms) {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The parts of an encoded query this fake understands: `field=value`,
 * `fieldINa,b`, `fieldNOT INa,b`, `fieldSTARTSWITHx`, `fieldISNOTEMPTY`, `field>x`,
 * `field>=x` (as text: date-times compare so), joined by `^`, and
 * `ORDERBYfield` / `ORDERBYDESCfield`.
 */
function parseQuery(query, ignored) {
  const conditions = [];
  const order = [];
  for (const part of String(query || '').split('^')) {
    if (part === '') continue;
    let m;
    if ((m = /^ORDERBYDESC(\w+)$/.exec(part))) order.push({ field: m[1], desc: true });
    else if ((m = /^ORDERBY(\w+)$/.exec(part))) order.push({ field: m[1], desc: false });
    else if ((m = /^(\w+)NOT IN(.*)$/.exec(part))) conditions.push((r) => !m[2].split(',').includes(String(r[m[1]] ?? '')));
    else if ((m = /^(\w+)IN(.*)$/.exec(part))) conditions.push((r) => m[2].split(',').includes(String(r[m[1]] ?? '')));
    else if ((m = /^(\w+)STARTSWITH(.*)$/.exec(part))) conditions.push((r) => String(r[m[1]] ?? '').startsWith(m[2]));
    else if ((m = /^(\w+)ISNOTEMPTY$/.exec(part))) conditions.push((r) => String(r[m[1]] ?? '') !== '');
    else if ((m = /^(\w+)>=(.*)$/.exec(part))) conditions.push((r) => String(r[m[1]] ?? '') >= m[2]);
    else if ((m = /^(\w+)>(.*)$/.exec(part))) conditions.push((r) => String(r[m[1]] ?? '') > m[2]);
    else if ((m = /^(\w+)=(.*)$/.exec(part))) conditions.push((r) => String(r[m[1]] ?? '') === m[2]);
    else ignored.push(part);
  }
  return { conditions, order };
}

class FakeServiceNow {
  constructor({ username = 'faultdesk', password = 'secret' } = {}) {
    this.auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    this.username = username;
    /** Incidents as the instance stores them (every value a string), plus `journal` and `attachments`. */
    this.incidents = [];
    /** Every call: method, path, time, and for incident calls the fault (correlation_id) and what it did. */
    this.calls = [];
    /** Parts of encoded queries that were ignored because the fake (and an instance) did not understand them. */
    this.ignoredQuery = [];
    /** See the header: one entry per create, in order. */
    this.createFaults = [];
    /** Creates held back by `holdUntilNextCreate`: each commits and answers when called. */
    this.held = [];
    /** While set, every call is answered with this status (and Retry-After, if given). */
    this.failing = undefined;
    this.server = undefined;
    this.url = '';
    this.clock = () => Date.now();
    this.numbers = 10000;
  }

  async start() {
    const app = express();
    app.use(express.json({ limit: '10mb' }));
    app.use(express.raw({ type: () => true, limit: '10mb' }));
    app.use((req, res, next) => {
      const call = { method: req.method, path: req.path, at: Date.now() };
      this.calls.push(call);
      req.call = call;
      res.on('finish', () => (call.status = res.statusCode));
      if (req.get('authorization') !== this.auth) return failure(res, 401, 'User Not Authenticated', 'Required to provide Auth information');
      if (this.failing) {
        call.failed = this.failing.status;
        if (this.failing.retryAfter) res.set('Retry-After', this.failing.retryAfter);
        return failure(res, this.failing.status, 'Service Unavailable', 'injected failure');
      }
      next();
    });
    const find = (id) => this.incidents.find((i) => i.sys_id === id);
    const view = (incident, fields) => {
      const names = fields ? String(fields).split(',') : Object.keys(incident).filter((k) => k !== 'journal' && k !== 'attachments');
      return Object.fromEntries(names.map((n) => [n, incident[n] ?? '']));
    };

    app.post(TABLE, async (req, res) => {
      const fault = this.createFaults.shift() || {};
      const body = req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : undefined;
      if (!body) return failure(res, 400, 'Exception while reading request', 'The payload is not valid JSON.');
      Object.assign(req.call, { faultId: body.correlation_id, kind: 'create' });
      const commit = () => {
        const incident = { state: '1' };
        for (const [k, v] of Object.entries(body)) incident[k] = v === null ? '' : String(v);
        const now = this.clock();
        Object.assign(incident, {
          sys_id: randomBytes(16).toString('hex'),
          number: `INC${String(++this.numbers).padStart(7, '0')}`,
          sys_created_on: glideDateTime(now),
          sys_updated_on: glideDateTime(now),
          sys_updated_by: this.username,
          sys_mod_count: '0',
          journal: [],
          attachments: [],
        });
        this.incidents.push(incident);
        return incident;
      };
      const answer = (incident) => {
        if (fault.drop) return req.socket.destroy();
        res.status(201).json({ result: view(incident, req.query.sysparm_fields) });
      };
      if (fault.holdUntilNextCreate) {
        this.held.push(() => answer(commit()));
        return;
      }
      // A create held back lands first, just before this one.
      for (const release of this.held.splice(0)) release();
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      answer(commit());
    });

    app.get(TABLE, (req, res) => {
      const { conditions, order } = parseQuery(req.query.sysparm_query, this.ignoredQuery);
      const m = /correlation_id=([^^]+)/.exec(String(req.query.sysparm_query || ''));
      Object.assign(req.call, { faultId: m ? m[1] : undefined, kind: 'lookup' });
      let rows = this.incidents.filter((r) => conditions.every((c) => c(r)));
      // Stable order: by the ORDERBY fields, then as stored (insertion order).
      rows = rows
        .map((r, i) => ({ r, i }))
        .sort((a, b) => {
          for (const o of order) {
            const x = String(a.r[o.field] ?? '');
            const y = String(b.r[o.field] ?? '');
            if (x !== y) return (x < y ? -1 : 1) * (o.desc ? -1 : 1);
          }
          return a.i - b.i;
        })
        .map((x) => x.r);
      const limit = req.query.sysparm_limit !== undefined ? Number(req.query.sysparm_limit) : 10000;
      const offset = req.query.sysparm_offset !== undefined ? Number(req.query.sysparm_offset) : 0;
      res.json({ result: rows.slice(offset, offset + limit).map((r) => view(r, req.query.sysparm_fields)) });
    });

    app.get(`${TABLE}/:id`, (req, res) => {
      const incident = find(req.params.id);
      if (!incident) return failure(res, 404, 'No Record found', 'Record doesn\'t exist or ACL restricts the record retrieval');
      Object.assign(req.call, { faultId: incident.correlation_id, kind: 'read' });
      res.json({ result: view(incident, req.query.sysparm_fields) });
    });

    app.patch(`${TABLE}/:id`, (req, res) => {
      const incident = find(req.params.id);
      if (!incident) return failure(res, 404, 'No Record found', 'Record doesn\'t exist or ACL restricts the record retrieval');
      const body = req.body || {};
      Object.assign(req.call, { faultId: incident.correlation_id, kind: body.state !== undefined ? `state:${body.state}` : 'note' });
      if (READ_ONLY_STATES.has(incident.state)) return failure(res, 403, 'Operation Failed', 'ACL restricts the record update');
      const next = { ...incident };
      for (const [k, v] of Object.entries(body)) {
        if (k === 'work_notes' || k === 'comments') continue;
        next[k] = v === null ? '' : String(v);
      }
      if (RESOLVED_STATES.has(next.state) && (!next.close_code || !next.close_notes)) {
        return failure(res, 403, 'Operation Failed', 'Data Policy Exception: Resolution code, Resolution notes are mandatory');
      }
      for (const k of ['work_notes', 'comments']) if (body[k]) next.journal = [...incident.journal, { field: k, text: String(body[k]) }];
      next.sys_updated_on = glideDateTime(this.clock());
      next.sys_updated_by = this.username;
      next.sys_mod_count = String(Number(incident.sys_mod_count || 0) + 1);
      Object.assign(incident, next);
      res.json({ result: view(incident, req.query.sysparm_fields) });
    });

    app.post('/api/now/attachment/file', (req, res) => {
      const incident = req.query.table_name === 'incident' ? find(req.query.table_sys_id) : undefined;
      if (!incident) return failure(res, 400, 'Invalid table or record', 'table_name and table_sys_id must name an incident');
      const content = Buffer.isBuffer(req.body) ? req.body : Buffer.from(JSON.stringify(req.body));
      const attachment = { sys_id: randomBytes(16).toString('hex'), file_name: String(req.query.file_name), size_bytes: String(content.length) };
      incident.attachments.push(attachment);
      Object.assign(req.call, { faultId: incident.correlation_id, kind: 'attach' });
      res.status(201).json({ result: { ...attachment, download_link: `${this.url}/api/now/attachment/${attachment.sys_id}/file` } });
    });

    await new Promise((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }

  /** Incidents of one fault (correlation_id) that are still being worked on: not resolved, closed or canceled. */
  live(faultId) {
    return this.incidents.filter((i) => i.correlation_id === faultId && !['6', '7', '8'].includes(i.state));
  }

  /**
   * A person changes an incident in the UI (`change`: field values; `work_notes` or `comments`
   * adds a journal entry): the record is stamped as the instance stamps it (sys_updated_by,
   * sys_updated_on, sys_mod_count). Returns the incident.
   */
  humanChange(sysId, change, user) {
    const incident = this.incidents.find((i) => i.sys_id === sysId);
    if (!incident) throw new Error(`no incident ${sysId}`);
    for (const [k, v] of Object.entries(change)) {
      if (k === 'work_notes' || k === 'comments') incident.journal = [...incident.journal, { field: k, text: String(v), created_by: user }];
      else incident[k] = v === null ? '' : String(v);
    }
    incident.sys_updated_by = user;
    incident.sys_updated_on = glideDateTime(this.clock());
    incident.sys_mod_count = String(Number(incident.sys_mod_count || 0) + 1);
    return incident;
  }

  async stop() {
    this.held = [];
    if (!this.server) return;
    const closed = new Promise((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

module.exports = { FakeServiceNow };
