import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

// Runs the shipped business rule (config/integrations/servicenow/faultdesk-business-rule.js) the way
// an instance does, in a JavaScript sandbox with stand-ins for what the instance gives a script:
// `current` (the incident after the save), `gs`, GlideDateTime, GlideRecord (the journal),
// GlideCertificateEncryption and sn_ws.RESTMessageV2. The request it would send is captured.

export const BUSINESS_RULE = path.resolve(__dirname, '../../config/integrations/servicenow/faultdesk-business-rule.js');

export interface SentRequest {
  endpoint: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  async: boolean;
}

export interface RuleRun {
  requests: SentRequest[];
  logs: Array<{ level: string; message: string }>;
  /** The journal queries the rule made, as field → value. */
  journalQueries: Array<Record<string, string>>;
}

export interface RuleInput {
  /** The incident's field values (getValue). */
  values: Record<string, string>;
  /** Display values of references (getDisplayValue). */
  displays?: Record<string, string>;
  properties: Record<string, string>;
  /** The newest journal entry of the incident, as sys_journal_field holds it. */
  journal?: { element: string; value: string; sys_created_by: string } | null;
  now: number;
}

export function runBusinessRule(input: RuleInput): RuleRun {
  const run: RuleRun = { requests: [], logs: [], journalQueries: [] };
  const current = {
    getValue: (field: string) => (field in input.values ? input.values[field] : null),
    getDisplayValue: (field: string) => input.displays?.[field] ?? '',
    getUniqueValue: () => input.values.sys_id,
  };
  const gs = {
    getProperty: (name: string, fallback?: string) => input.properties[name] ?? fallback,
    warn: (message: string) => run.logs.push({ level: 'warn', message }),
    info: (message: string) => run.logs.push({ level: 'info', message }),
  };
  function GlideDateTime(this: object) {}
  GlideDateTime.prototype.getNumericValue = () => input.now;
  function GlideCertificateEncryption(this: object) {}
  // As the instance does: the key is given base64, the MAC comes back base64.
  GlideCertificateEncryption.prototype.generateMac = (key: string, algorithm: string, data: string) => {
    if (algorithm !== 'HmacSHA256') throw new Error(`unsupported algorithm ${algorithm}`);
    return createHmac('sha256', Buffer.from(key, 'base64')).update(data, 'utf8').digest('base64');
  };
  function GlideRecord(this: { table: string; query_: Record<string, string>; row: unknown; done: boolean }, table: string) {
    this.table = table;
    this.query_ = {};
    this.row = undefined;
    this.done = false;
  }
  GlideRecord.prototype.addQuery = function (this: { query_: Record<string, string> }, field: string, a: string, b?: string) {
    this.query_[field] = b === undefined ? a : `${a} ${b}`;
  };
  GlideRecord.prototype.orderByDesc = function (this: { query_: Record<string, string> }, field: string) {
    this.query_.orderByDesc = field;
  };
  GlideRecord.prototype.setLimit = function () {};
  GlideRecord.prototype.query = function (this: { table: string; query_: Record<string, string> }) {
    run.journalQueries.push({ table: this.table, ...this.query_ });
  };
  GlideRecord.prototype.next = function (this: { done: boolean; row: unknown }) {
    if (this.done || !input.journal) return false;
    this.done = true;
    this.row = input.journal;
    return true;
  };
  GlideRecord.prototype.getValue = function (this: { row: Record<string, string> }, field: string) {
    return this.row[field] ?? null;
  };
  function RESTMessageV2(this: SentRequest) {
    this.endpoint = '';
    this.method = '';
    this.headers = {};
    this.body = '';
    this.async = false;
  }
  RESTMessageV2.prototype.setEndpoint = function (this: SentRequest, url: string) {
    this.endpoint = url;
  };
  RESTMessageV2.prototype.setHttpMethod = function (this: SentRequest, method: string) {
    this.method = method;
  };
  RESTMessageV2.prototype.setRequestHeader = function (this: SentRequest, name: string, value: string) {
    this.headers[name] = value;
  };
  RESTMessageV2.prototype.setRequestBody = function (this: SentRequest, body: string) {
    this.body = body;
  };
  RESTMessageV2.prototype.executeAsync = function (this: SentRequest) {
    this.async = true;
    run.requests.push({ endpoint: this.endpoint, method: this.method, headers: { ...this.headers }, body: this.body, async: true });
  };
  RESTMessageV2.prototype.execute = function () {
    throw new Error('the rule must not wait for faultdesk (execute): use executeAsync');
  };
  const sandbox = { current, previous: null, gs, GlideDateTime, GlideCertificateEncryption, GlideRecord, sn_ws: { RESTMessageV2 } };
  vm.runInNewContext(readFileSync(BUSINESS_RULE, 'utf8'), sandbox, { filename: BUSINESS_RULE, timeout: 1000 });
  return run;
}

/** Sends a captured request as the instance would. */
export async function send(req: SentRequest): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(req.endpoint, { method: req.method.toUpperCase(), headers: req.headers, body: req.body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
