#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig, SourceError, type Config } from './config';
import { startDaemon, ruleContext } from './main';
import { loadRules } from './rules';

const DEFAULT_CONFIG = 'config/faultdesk.yaml';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

function readConfig(file: string | undefined): Config {
  return loadConfig({ file, env: process.env });
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
    let config: Config;
    try {
      config = readConfig(opts.config);
    } catch (err) {
      fail(err);
    }
    let daemon: Awaited<ReturnType<typeof startDaemon>>;
    try {
      daemon = await startDaemon({ config, version });
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
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program
  .command('check')
  .description('validate the config and every rule file without starting anything')
  .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
  .action((opts: { config: string }) => {
    try {
      const config = readConfig(opts.config);
      const rules = loadRules(config.rules, ruleContext(config));
      process.stdout.write(`${opts.config}: ok; ${rules.files.length} rule files, ${rules.categories.length} categories\n`);
    } catch (err) {
      fail(err);
    }
  });

program.parseAsync(process.argv).catch(fail);
