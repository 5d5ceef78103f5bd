import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Clock } from './clock';
import { loadConfig, SourceError, type Config } from './config';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import { loadRules, listRuleFiles, RuleEngine, type RuleContext } from './rules';

export type ReloadResult =
  | { ok: true; files: number; categories: number; /** Changed settings that take effect only at the next start. */ restartRequired: string[] }
  | { ok: false; error: string; problems: string[] };

/**
 * Settings that only take effect at start; a reload names those that changed.
 * Everything else applies at once: rules and what they inherit (faults.*),
 * the stale sweep, estimates, satisfaction and watch_rules, which are read
 * through config() at each use.
 */
const RESTART_ONLY = ['listen', 'store', 'auth', 'http', 'tickets', 'outbox', 'email', 'jobs', 'log', 'writeback'] as const;

export interface ReloaderDeps {
  config: Config;
  /** The config file to read again; without one, only the rules are read again. */
  configFile?: string;
  env?: Record<string, string | undefined>;
  ruleContext: (config: Config) => RuleContext;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
}

/**
 * Holds the running rules. A reload reads and checks the config and every
 * rule file first and swaps the rules in one assignment only when all of it
 * is good; a failed reload keeps the running rules and says why. A batch of
 * alerts takes the rules once, so it sees the old or the new rules, never both.
 */
export class RuleReloader {
  private engine: RuleEngine;
  private current: Config;
  private watching = false;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadResult> | undefined;

  constructor(private readonly deps: ReloaderDeps) {
    this.current = deps.config;
    this.engine = new RuleEngine(loadRules(deps.config.rules, deps.ruleContext(deps.config)));
    this.succeeded();
  }

  /** The rules now; callers take it once per unit of work. */
  readonly rules = (): RuleEngine => this.engine;

  /** The config as last loaded; its restart-only parts are still those the daemon started with. */
  readonly config = (): Config => this.current;

  reload(): Promise<ReloadResult> {
    // Reloads run one at a time; one asked for during another waits for it and runs after.
    const next = (this.running ?? Promise.resolve()).then(() => this.load());
    this.running = next.finally(() => {
      if (this.running === next) this.running = undefined;
    });
    return next;
  }

  private load(): ReloadResult {
    const { logger, metrics } = this.deps;
    try {
      const config = this.deps.configFile ? loadConfig({ file: this.deps.configFile, env: this.deps.env }) : this.deps.config;
      const engine = new RuleEngine(loadRules(config.rules, this.deps.ruleContext(config)));
      // Compared with what the daemon started with: a restart-only change stays pending until a restart.
      const restartRequired = RESTART_ONLY.filter((k) => JSON.stringify(config[k]) !== JSON.stringify(this.deps.config[k]));
      if (restartRequired.length > 0) logger.warn('config changes that need a restart were not applied', { settings: restartRequired });
      const rewatch = config.watch_rules !== this.current.watch_rules || JSON.stringify(config.rules) !== JSON.stringify(this.current.rules);
      this.engine = engine;
      this.current = config;
      if (rewatch && this.watching) this.unwatch();
      if (rewatch && config.watch_rules) this.watchRules();
      this.succeeded();
      logger.info('rules reloaded', { files: engine.rules.files.length, categories: engine.categories.length });
      return { ok: true, files: engine.rules.files.length, categories: engine.categories.length, restartRequired };
    } catch (err) {
      metrics.configReloadSuccessful.set(0);
      const problems = err instanceof SourceError ? err.message.split('\n') : [(err as Error).message];
      logger.error('reload failed; the running rules are kept', { problems });
      return { ok: false, error: 'reload failed; the running rules are kept', problems };
    }
  }

  private succeeded(): void {
    this.deps.metrics.configReloadSuccessful.set(1);
    this.deps.metrics.configReloadTimestamp.set(this.deps.clock.now() / 1000);
  }

  /** Reloads when a rule file or folder changes, a moment after the last change. */
  watchRules(debounceMs = 500): void {
    this.watching = true;
    const paths = typeof this.current.rules === 'string' ? [this.current.rules] : this.current.rules;
    const dirs = new Set<string>();
    for (const p of paths) {
      dirs.add(path.resolve(p));
      for (const f of listRuleFiles(p)) dirs.add(path.dirname(path.resolve(f)));
    }
    for (const dir of dirs) {
      try {
        const w = watch(dir, () => {
          if (this.timer) clearTimeout(this.timer);
          this.timer = setTimeout(() => void this.reload(), debounceMs);
          this.timer.unref?.();
        });
        w.on('error', (err) => this.deps.logger.warn('cannot watch the rules', { path: dir, error: err.message }));
        this.watchers.push(w);
      } catch (err) {
        this.deps.logger.warn('cannot watch the rules', { path: dir, error: (err as Error).message });
      }
    }
  }

  private unwatch(): void {
    this.watching = false;
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  stop(): void {
    this.unwatch();
    if (this.timer) clearTimeout(this.timer);
  }
}
