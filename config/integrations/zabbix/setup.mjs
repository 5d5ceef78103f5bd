#!/usr/bin/env node
// Sets Zabbix 6.0 up to send its trigger events to faultdesk, through Zabbix's API only:
// imports the shipped media type (media_faultdesk.yaml) and points it at faultdesk, and
// creates (or brings up to date) a user group and a user "faultdesk" with the media, and
// an action "faultdesk" with operations for problems, recoveries and updates. With
// --smoke-test it also adds a host with a trapper item and a trigger, to raise a test
// problem with zabbix_sender. Running it again updates what it made; it changes nothing else.
//
//   ZABBIX_PASSWORD=... node config/integrations/zabbix/setup.mjs \
//     --zabbix-api https://zabbix.example/ --zabbix-user Admin \
//     --faultdesk-url http://faultdesk.example:9095 --faultdesk-token-file /etc/faultdesk/zabbix-token \
//     --host-group "Linux servers" --host-group "Databases" [--smoke-test]
//
// Prints what it made as JSON. Secrets come from files or the environment, never arguments.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import axios from 'axios';

const here = path.dirname(new URL(import.meta.url).pathname);
export const MEDIA_TYPE_FILE = path.join(here, 'media_faultdesk.yaml');
export const NAME = 'faultdesk';
export const SMOKE_TEST = { group: 'faultdesk smoke test', host: 'faultdesk-smoke-test', key: 'faultdesk.smoke', trigger: 'faultdesk smoke test' };

const USAGE = `Usage: node setup.mjs --zabbix-api URL --faultdesk-url URL --host-group NAME... [options]

  --zabbix-api URL            the Zabbix frontend (or its api_jsonrpc.php)
  --zabbix-user NAME          a Zabbix super admin (default Admin); the password comes from
                              --zabbix-password-file FILE or the environment variable ZABBIX_PASSWORD
  --faultdesk-url URL         faultdesk's base URL as Zabbix's server reaches it
  --faultdesk-token-file FILE the bearer token of faultdesk's auth.sources.zabbix, or the environment
                              variable FAULTDESK_ZABBIX_TOKEN (neither: no token)
  --host-group NAME           (repeatable) the host groups whose problems go to faultdesk;
                              the faultdesk user gets read access to them
  --media-user NAME           the user that receives the media (default faultdesk)
  --user-group NAME           (repeatable) user groups the media user also joins: Zabbix tells a
                              user who acknowledged a problem only when they share a user group
                              (else "Inaccessible user"); the user gets those groups' permissions too
  --zabbix-frontend-url URL   sets the global macro {$ZABBIX.URL}, for links back to Zabbix
  --smoke-test                also creates host "${SMOKE_TEST.host}" (group "${SMOKE_TEST.group}") with the
                              trapper item ${SMOKE_TEST.key} and a trigger that fires while it is not 0
`;

/** A Zabbix 6.0 JSON-RPC client; the session goes in the body's `auth`, as 6.0 expects. */
export class ZabbixApi {
  constructor(url) {
    this.url = /api_jsonrpc\.php$/.test(url) ? url : `${url.replace(/\/+$/, '')}/api_jsonrpc.php`;
    this.auth = null;
    this.id = 1;
  }

  async call(method, params) {
    const body = { jsonrpc: '2.0', method, params, id: this.id++ };
    if (this.auth && method !== 'apiinfo.version' && method !== 'user.login') body.auth = this.auth;
    const res = await axios.post(this.url, body, { headers: { 'Content-Type': 'application/json-rpc' }, timeout: 60_000, validateStatus: () => true });
    const answer = res.data;
    if (answer && typeof answer === 'object' && answer.error) {
      throw new Error(`Zabbix API ${method}: ${answer.error.data || answer.error.message} (${answer.error.code})`);
    }
    if (res.status !== 200 || !answer || typeof answer !== 'object' || !('result' in answer)) {
      throw new Error(`Zabbix API ${method}: HTTP ${res.status} from ${this.url}, not a JSON-RPC answer`);
    }
    return answer.result;
  }

  async login(username, password) {
    this.auth = await this.call('user.login', { username, password });
  }
}

function one(list, what) {
  if (list.length > 1) throw new Error(`more than one ${what}`);
  return list[0];
}

/** The shipped media type, imported (or updated) as it is, then pointed at faultdesk and enabled. */
async function mediaType(api, { faultdeskUrl, faultdeskToken }) {
  await api.call('configuration.import', {
    format: 'yaml',
    rules: { mediaTypes: { createMissing: true, updateExisting: true } },
    source: readFileSync(MEDIA_TYPE_FILE, 'utf8'),
  });
  const media = one(await api.call('mediatype.get', { filter: { name: NAME }, output: ['mediatypeid', 'parameters'] }), `media type ${NAME}`);
  if (!media) throw new Error(`configuration.import did not create the media type ${NAME}`);
  const values = { faultdesk_url: faultdeskUrl, faultdesk_token: faultdeskToken };
  const parameters = media.parameters.map((p) => (p.name in values ? { name: p.name, value: values[p.name] } : { name: p.name, value: p.value }));
  await api.call('mediatype.update', { mediatypeid: media.mediatypeid, status: 0, parameters });
  return media.mediatypeid;
}

async function hostGroupIds(api, names) {
  // An empty name filter would match every group.
  if (names.length === 0) return [];
  const found = await api.call('hostgroup.get', { filter: { name: names }, output: ['groupid', 'name'] });
  const missing = names.filter((n) => !found.some((g) => g.name === n));
  if (missing.length > 0) throw new Error(`no such host group: ${missing.join(', ')}`);
  return found.map((g) => g.groupid);
}

async function smokeTest(api) {
  let groupid = one(await api.call('hostgroup.get', { filter: { name: [SMOKE_TEST.group] }, output: ['groupid'] }), 'smoke test group')?.groupid;
  groupid ??= (await api.call('hostgroup.create', { name: SMOKE_TEST.group })).groupids[0];
  let hostid = one(await api.call('host.get', { filter: { host: [SMOKE_TEST.host] }, output: ['hostid'] }), 'smoke test host')?.hostid;
  // A trapper item needs no interface.
  hostid ??= (await api.call('host.create', { host: SMOKE_TEST.host, groups: [{ groupid }] })).hostids[0];
  let itemid = one(await api.call('item.get', { hostids: [hostid], filter: { key_: [SMOKE_TEST.key] }, output: ['itemid'] }), 'smoke test item')?.itemid;
  // Created disabled, and enabled once the action exists (see setUp).
  itemid ??= (
    await api.call('item.create', { hostid, name: 'faultdesk smoke test value', key_: SMOKE_TEST.key, type: 2, value_type: 3, history: '1d', trends: '0', status: 1 })
  ).itemids[0];
  let triggerid = one(await api.call('trigger.get', { hostids: [hostid], filter: { description: [SMOKE_TEST.trigger] }, output: ['triggerid'] }), 'smoke test trigger')?.triggerid;
  triggerid ??= (
    await api.call('trigger.create', {
      description: SMOKE_TEST.trigger,
      expression: `last(/${SMOKE_TEST.host}/${SMOKE_TEST.key})<>0`,
      priority: 4,
      // So a human (or faultdesk) may close the problem by hand.
      manual_close: 1,
      tags: [{ tag: 'service', value: 'faultdesk' }],
    })
  ).triggerids[0];
  return { groupid, hostid, itemid, triggerid, host: SMOKE_TEST.host, key: SMOKE_TEST.key };
}

/** A user group with read access to the host groups (a user sees only the problems of hosts it may read). */
async function userGroup(api, groupids) {
  const rights = groupids.map((id) => ({ id, permission: 2 }));
  const existing = one(await api.call('usergroup.get', { filter: { name: [NAME] }, output: ['usrgrpid'] }), `user group ${NAME}`);
  if (existing) {
    await api.call('usergroup.update', { usrgrpid: existing.usrgrpid, rights });
    return existing.usrgrpid;
  }
  return (await api.call('usergroup.create', { name: NAME, rights })).usrgrpids[0];
}

async function userGroupIds(api, names) {
  // An empty name filter would match every group.
  if (names.length === 0) return [];
  const found = await api.call('usergroup.get', { filter: { name: names }, output: ['usrgrpid', 'name'] });
  const missing = names.filter((n) => !found.some((g) => g.name === n));
  if (missing.length > 0) throw new Error(`no such user group: ${missing.join(', ')}`);
  return found.map((g) => g.usrgrpid);
}

async function userRole(api) {
  const role = one(await api.call('role.get', { filter: { name: ['User role'] }, output: ['roleid'] }), 'role "User role"');
  if (!role) throw new Error('the stock role "User role" is missing: create the media user by hand and pass --media-user');
  return role.roleid;
}

async function mediaUser(api, { username, roleid, usrgrpids, mediatypeid }) {
  const medias = [{ mediatypeid, sendto: NAME, active: 0, severity: 63, period: '1-7,00:00-24:00' }];
  const usrgrps = usrgrpids.map((usrgrpid) => ({ usrgrpid }));
  const existing = one(await api.call('user.get', { filter: { username: [username] }, output: ['userid'] }), `user ${username}`);
  if (existing) {
    await api.call('user.update', { userid: existing.userid, usrgrps, medias });
    return existing.userid;
  }
  // Nobody logs in as this user: a long random password it never needs.
  const passwd = `${randomBytes(24).toString('base64url')}aA1!`;
  return (await api.call('user.create', { username, name: NAME, passwd, roleid, usrgrps, medias })).userids[0];
}

/** The action: a message to the user through the media type on problem, recovery and update (acknowledge, message, severity). */
async function action(api, { groupids, mediatypeid, userid }) {
  const message = () => ({ operationtype: 0, opmessage: { default_msg: 1, mediatypeid }, opmessage_usr: [{ userid }] });
  const definition = {
    status: 0,
    esc_period: '1h',
    filter: { evaltype: 0, conditions: groupids.map((value) => ({ conditiontype: 0, operator: 0, value })) },
    operations: [{ ...message(), esc_step_from: 1, esc_step_to: 1 }],
    recovery_operations: [message()],
    update_operations: [message()],
  };
  const existing = one(await api.call('action.get', { filter: { name: [NAME], eventsource: 0 }, output: ['actionid'] }), `action ${NAME}`);
  if (existing) {
    await api.call('action.update', { actionid: existing.actionid, ...definition });
    return existing.actionid;
  }
  return (await api.call('action.create', { name: NAME, eventsource: 0, ...definition })).actionids[0];
}

async function zabbixUrlMacro(api, url) {
  const existing = one(await api.call('usermacro.get', { globalmacro: true, filter: { macro: '{$ZABBIX.URL}' }, output: ['globalmacroid'] }), '{$ZABBIX.URL}');
  if (existing) await api.call('usermacro.updateglobal', { globalmacroid: existing.globalmacroid, value: url });
  else await api.call('usermacro.createglobal', { macro: '{$ZABBIX.URL}', value: url });
}

/** Does the whole set-up with a logged-in client; returns the ids of what it made. */
export async function setUp(api, o) {
  const version = await api.call('apiinfo.version', {});
  if (!/^6\.0\./.test(version)) {
    throw new Error(`this script speaks the Zabbix 6.0 API and the server runs ${version}: import media_faultdesk.yaml by hand (see README)`);
  }
  // Everything that can be missing is looked up before anything changes.
  const named = await hostGroupIds(api, o.hostGroups);
  const joined = await userGroupIds(api, o.userGroups ?? []);
  const roleid = await userRole(api);
  const mediatypeid = await mediaType(api, o);
  const smoke = o.smokeTest ? await smokeTest(api) : undefined;
  const groupids = [...new Set([...named, ...(smoke ? [smoke.groupid] : [])])];
  const usrgrpid = await userGroup(api, groupids);
  const userid = await mediaUser(api, { username: o.mediaUser, roleid, usrgrpids: [...new Set([usrgrpid, ...joined])], mediatypeid });
  const actionid = await action(api, { groupids, mediatypeid, userid });
  if (o.zabbixFrontendUrl) await zabbixUrlMacro(api, o.zabbixFrontendUrl);
  // Last: the server's configuration cache picks up changes in the order they were made, so
  // once zabbix_sender's value for the item is accepted, the trigger and the action are there too.
  if (smoke) await api.call('item.update', { itemid: smoke.itemid, status: 0 });
  return { zabbixVersion: version, mediatypeid, usrgrpid, userid, actionid, hostGroupIds: groupids, ...(smoke ? { smokeTest: smoke } : {}) };
}

class UsageError extends Error {}

function secret(file, envName) {
  if (file) return readFileSync(file, 'utf8').trim();
  return process.env[envName] ?? '';
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'zabbix-api': { type: 'string' },
      'zabbix-user': { type: 'string', default: 'Admin' },
      'zabbix-password-file': { type: 'string' },
      'faultdesk-url': { type: 'string' },
      'faultdesk-token-file': { type: 'string' },
      'host-group': { type: 'string', multiple: true, default: [] },
      'media-user': { type: 'string', default: NAME },
      'user-group': { type: 'string', multiple: true, default: [] },
      'zabbix-frontend-url': { type: 'string' },
      'smoke-test': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const problems = [];
  if (!values['zabbix-api']) problems.push('--zabbix-api is required');
  if (!values['faultdesk-url']) problems.push('--faultdesk-url is required');
  else if (!/^https?:\/\/[^/]/.test(values['faultdesk-url'])) problems.push('--faultdesk-url must be an http(s) URL');
  if (values['host-group'].length === 0 && !values['smoke-test']) problems.push('give at least one --host-group (or --smoke-test)');
  const password = secret(values['zabbix-password-file'], 'ZABBIX_PASSWORD');
  if (!password) problems.push('no Zabbix password: give --zabbix-password-file or set ZABBIX_PASSWORD');
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  const api = new ZabbixApi(values['zabbix-api']);
  await api.login(values['zabbix-user'], password);
  const made = await setUp(api, {
    faultdeskUrl: values['faultdesk-url'].replace(/\/+$/, ''),
    faultdeskToken: secret(values['faultdesk-token-file'], 'FAULTDESK_ZABBIX_TOKEN'),
    hostGroups: values['host-group'],
    mediaUser: values['media-user'],
    userGroups: values['user-group'],
    zabbixFrontendUrl: values['zabbix-frontend-url'],
    smokeTest: values['smoke-test'],
  });
  process.stdout.write(`${JSON.stringify(made, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(here, 'setup.mjs')) {
  main(process.argv.slice(2)).catch((err) => {
    const usage = err instanceof UsageError || String(err.code).startsWith('ERR_PARSE_ARGS_');
    process.stderr.write(`setup.mjs: ${err.message}\n${usage ? `\n${USAGE}` : ''}`);
    process.exitCode = usage ? 2 : 1;
  });
}
