import { spawnSync } from 'node:child_process';
import { ensureDebianPackage } from './e2e/ensure-package';

/**
 * Gauges every replica reads from the one shared store when scraped: two
 * replicas of one deployment report the same values, so queries take them
 * once per job (max), never summed over instances.
 */
export const STORE_GAUGES = [
  'faultdesk_faults',
  'faultdesk_faults_at_risk',
  'faultdesk_outbox_depth',
  'faultdesk_outbox_parked',
  'faultdesk_outbox_oldest_age_seconds',
  'faultdesk_satisfaction_score',
] as const;

/**
 * promtool from Debian's prometheus package, installed when missing. Where it
 * cannot be installed (no root, no package archive) the tests that need it are
 * skipped with the reason; in CI (CI set) that is a failure instead, since CI
 * installs the package before the tests (.ci/run).
 */
export function promtoolOrSkip(): { promtool: string | undefined; withPromtool: jest.It } {
  try {
    const promtool = ensureDebianPackage('promtool', 'prometheus');
    return { promtool, withPromtool: test };
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping the promtool tests: ${(err as Error).message}`);
    return { promtool: undefined, withPromtool: test.skip };
  }
}

/** Runs promtool in `cwd`; its exit code and everything it printed. */
export function runPromtool(promtool: string, args: string[], cwd?: string): { code: number | null; output: string } {
  const r = spawnSync(promtool, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
}

/**
 * The aggregation right around a gauge's selector in a PromQL expression,
 * e.g. `max by (job, system) (faultdesk_outbox_depth{…})` gives max and
 * [job, system]; undefined when the gauge is not aggregated right there.
 */
export function aggregationAround(expr: string, gauge: string): { op: string; by: string[] } | undefined {
  const m = new RegExp(`(\\w+) by \\(([^)]*)\\) \\(${gauge}(?:\\{[^}]*\\})?\\)`).exec(expr);
  return m ? { op: m[1]!, by: m[2]!.split(/,\s*/) } : undefined;
}
