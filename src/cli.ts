#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig, SourceError, type Config } from './config';
import { startDaemon, ruleContext } from './main';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { daemonClient } from './commands/daemon-client';
import { boundHeapGrowth } from './heap';
import { explainAlerts } from './faults';
import { check } from './commands/check';
import { loadRules, RuleEngine } from './rules';
import { runRuleTests, formatResults } from './ruletest';
import { createSources, detectSource, type SourceName } from './sources';
import { openStore, sqliteFile, type Store } from './store';

const DEFAULT_CONFIG = 'config/faultdesk.yaml';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/** The config with the environment's overrides; its problems are printed and the command exits 1. */
function readConfig(file: string | undefined): Config {
  try {
    return loadConfig({ file, env: process.env });
  } catch (err) {
    fail(err);
  }
}

/** Prints problems of config or rule files as file:line:column lines and exits 1. */
function fail(err: unknown): never {
  if (err instanceof SourceError) {
    for (const line of err.message.split('\n')) process.stderr.write(`${line}\n`);
  } else {
    process.stderr.write(`faultdesk: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
}

const program = new Command()
  .name('faultdesk')
  .description('Turns monitoring alerts into deduplicated faults and help-desk tickets.')
  .version(version);

program
  .command('run')
  .description('run the daemon')
  .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
  .action(async (opts: { config: string }) => {
    boundHeapGrowth(process.execArgv);
    const config = readConfig(opts.config);
    let daemon: Awaited<ReturnType<typeof startDaemon>>;
    try {
      daemon = await startDaemon({ config, configFile: opts.config, env: process.env, version });
    } catch (err) {
      fail(err);
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`faultdesk: ${signal} received, stopping\n`);
      const deadline = setTimeout(() => process.exit(1), 25_000);
      deadline.unref();
      daemon.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGHUP', () => {
      void daemon.reload();
    });
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program
  .command('check')
  .description('validate the config and every rule file without starting anything')
  .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
  .action((opts: { config: string }) => {
    const result = check(opts.config, process.env, ruleContext);
    (result.code === 0 ? process.stdout : process.stderr).write(result.lines.map((l) => `${l}\n`).join(''));
    process.exit(result.code);
  });

program
  .command('test')
  .description('run rule unit tests (YAML files of alerts and what the rules must make of them)')
  .argument('<files...>', 'test files, e.g. rules/*.test.yaml')
  .option('-c, --config <file>', 'config file (for ticket systems and defaults)', DEFAULT_CONFIG)
  .action(async (files: string[], opts: { config: string }) => {
    const config = readConfig(existsSync(opts.config) ? opts.config : undefined);
    const results = [];
    for (const file of files) {
      try {
        results.push(...(await runRuleTests(file, config, ruleContext)));
      } catch (err) {
        fail(err);
      }
    }
    process.stdout.write(formatResults(results));
    process.exit(results.every((r) => r.ok) ? 0 : 1);
  });

program
  .command('explain')
  .description('say what faultdesk would do with the alerts of a payload, changing nothing')
  .argument('<file>', 'a payload of any source (JSON; Nagios also form-encoded), or - for standard input')
  .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
  .option('-s, --source <source>', 'alertmanager | zabbix | nagios | generic (default: from the payload)')
  .action(async (file: string, opts: { config: string; source?: SourceName }) => {
    const config = readConfig(opts.config);
    const text = readFileSync(file === '-' ? 0 : file, 'utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = Object.fromEntries(new URLSearchParams(text.trim()));
    }
    const source = opts.source ?? detectSource(body);
    if (!source || !['alertmanager', 'zabbix', 'nagios', 'generic'].includes(source)) {
      fail(new Error('cannot tell the source of this payload: give --source alertmanager|zabbix|nagios|generic'));
    }
    const parsed = createSources()[source].parse(body, Date.now());
    if (!parsed.ok) fail(new Error(`invalid ${source} payload:\n${parsed.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`));
    let engine: RuleEngine;
    try {
      engine = new RuleEngine(loadRules(config.rules, ruleContext(config)));
    } catch (err) {
      fail(err);
    }
    // A dry run against what is stored, on a transaction that is rolled back; never a migration.
    // With no database yet there is nothing stored: explain against an empty one.
    const dbFile = sqliteFile(config.store.url);
    const url = dbFile !== undefined && !existsSync(dbFile) ? 'sqlite::memory:' : config.store.url;
    let store: Store;
    try {
      store = await openStore({ url, sqliteSynchronous: config.store.sqlite_synchronous });
    } catch (err) {
      fail(err);
    }
    try {
      process.stdout.write(`${JSON.stringify({ source, alerts: await explainAlerts(parsed.alerts, engine, store, Date.now()) }, null, 2)}\n`);
    } finally {
      await store.close();
    }
  });

program
  .command('migrate')
  .description("bring the store's schema up to date (the daemon does this when it starts)")
  .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
  .action(async (opts: { config: string }) => {
    const config = readConfig(opts.config);
    try {
      const store = await openStore({ url: config.store.url, sqliteSynchronous: config.store.sqlite_synchronous, migrate: true });
      await store.close();
    } catch (err) {
      fail(err);
    }
    process.stdout.write(`${config.store.url.replace(/\/\/[^@/]*@/, '//<credentials>@')}: schema up to date\n`);
  });

const fault = program.command('fault').description("act on a fault through the running daemon's API (admin credentials from the config)");

/** One action of the human loop: POST /api/v1/faults/ID/<action> on the running daemon. */
function faultAction(name: string, description: string, options: Array<[string, string, boolean?]>, body: (opts: Record<string, string>) => Record<string, unknown>) {
  const command = fault.command(name).description(description).argument('<id>', 'fault id');
  for (const [flags, help, required] of options) {
    if (required) command.requiredOption(flags, help);
    else command.option(flags, help);
  }
  command
    .option('--by <name>', 'who, for the timeline', userInfo().username)
    .option('--url <url>', "the daemon's address (default: from listen in the config)")
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .action(async (id: string, opts: Record<string, string>) => {
      const config = readConfig(opts.config);
      try {
        const path = `/api/v1/faults/${encodeURIComponent(id)}/${name}`;
        const res = await daemonClient(config, opts.url).post(path, { ...body(opts), by: opts.by });
        if (res.status !== 200) fail(new Error(`${res.status}: ${String(res.json.error ?? '')}${res.json.errors ? ` ${JSON.stringify(res.json.errors)}` : ''}`));
        const f = res.json.fault as { id: string; state: string; category: string; key: string; tier: string | null; acknowledged: { by: string } | null };
        process.stdout.write(`${f.id}\t${f.state}\t${f.category}\t${f.key}${f.tier ? `\ttier ${f.tier}` : ''}${f.acknowledged ? `\tacknowledged by ${f.acknowledged.by}` : ''}\n`);
      } catch (err) {
        fail(err);
      }
    });
}
const text = (opts: Record<string, string>) => (opts.text ? { text: opts.text } : {});
faultAction('ack', 'acknowledge: you took it (repeat mails stop; the monitoring systems are told)', [['-t, --text <text>', 'a note']], text);
faultAction('unack', 'take an acknowledgement back', [['-t, --text <text>', 'a note']], text);
faultAction('comment', "add a comment to the fault's timeline and ticket", [['-t, --text <text>', 'the comment', true]], text);
faultAction('resolve', 'resolve a fault by hand, e.g. one whose source will never send the recovery', [['-r, --reason <text>', 'why, for the timeline and the ticket', true]], (o) => ({ reason: o.reason }));
faultAction('close', "close the fault's ticket (won't fix): faultdesk will not reopen it", [['--code <code>', 'a close code'], ['-t, --text <text>', 'why']], (o) => ({ ...(o.code ? { code: o.code } : {}), ...text(o) }));
faultAction('assign', 'move the fault to a support tier', [['--tier <tier>', 'the tier (one of the config\'s tiers)', true]], (o) => ({ tier: o.tier }));

const outbox = program.command('outbox').description('look at and retry outbox operations (works while the daemon runs)');
outbox
  .command('list')
  .description('list outbox operations, parked ones by default')
  .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
  .option('--state <state>', 'pending | running | parked | done', 'parked')
  .option('--system <system>', 'only this system: local, zendesk, servicenow, email, alertmanager, zabbix, nagios')
  .action(async (opts: { config: string; state: string; system?: string }) => {
    const store = await openConfiguredStore(opts.config);
    try {
      const rows = await store.repos.outbox.list({ state: opts.state, ...(opts.system ? { system: opts.system } : {}), limit: 1000, offset: 0 });
      for (const r of rows) {
        process.stdout.write(`${r.id}\t${r.system}\t${r.kind}\t${r.fault_id}\tattempts=${r.attempts}\t${r.last_error ?? ''}\n`);
      }
      process.stdout.write(`${rows.length} ${opts.state} operation(s)\n`);
    } finally {
      await store.close();
    }
  });
outbox
  .command('retry')
  .description('put parked operations back in line: all of them, or those given')
  .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
  .option('--id <ids...>', 'operation ids')
  .option('--fault <id>', 'only this fault')
  .action(async (opts: { config: string; id?: string[]; fault?: string }) => {
    const ids = opts.id?.map(Number);
    if (ids?.some((n) => !Number.isInteger(n) || n <= 0)) fail(new Error('--id takes operation ids (positive integers)'));
    const store = await openConfiguredStore(opts.config);
    try {
      const retried = await store.repos.outbox.retryParked(Date.now(), { ids, faultId: opts.fault });
      process.stdout.write(`${retried} parked operation(s) put back in line\n`);
    } finally {
      await store.close();
    }
  });

async function openConfiguredStore(file: string) {
  const config = readConfig(file);
  try {
    return await openStore({ url: config.store.url, sqliteSynchronous: config.store.sqlite_synchronous });
  } catch (err) {
    fail(err);
  }
}

program.parseAsync(process.argv).catch(fail);
