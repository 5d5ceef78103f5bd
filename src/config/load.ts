import { readFileSync } from 'node:fs';
import path from 'node:path';
import { issueProblems } from './issues';
import { configSchema, type RawConfig } from './schema';
import { parseYamlSource, SourceError, type SourceProblem, type YamlSource } from './yaml-source';

export type Config = RawConfig & {
  /** The file the config came from, or "<defaults>". */
  source: string;
  /** Every secret value the config holds, so logs can redact them. */
  secrets: string[];
};

/** Environment variables that override the file: the only place process.env is read. */
const ENV_OVERRIDES: Record<string, readonly string[]> = {
  FAULTDESK_LISTEN: ['listen'],
  FAULTDESK_STORE_URL: ['store', 'url'],
  FAULTDESK_RULES: ['rules'],
  FAULTDESK_LOG_LEVEL: ['log', 'level'],
};

export interface LoadConfigOptions {
  file?: string;
  env?: Record<string, string | undefined>;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  let source: YamlSource | undefined;
  let value: Record<string, unknown> = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new SourceError([
        { file: options.file, line: 1, column: 1, message: `cannot read config: ${(err as Error).message}` },
      ]);
    }
    source = parseYamlSource(options.file, text);
    if (source.value !== null && source.value !== undefined) {
      if (typeof source.value !== 'object' || Array.isArray(source.value)) {
        throw new SourceError([source.problemAt([], 'config must be a mapping')]);
      }
      value = source.value as Record<string, unknown>;
    }
  }
  applyEnvOverrides(value, env);
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    throw new SourceError(
      parsed.error.issues.flatMap((issue) =>
        source
          ? issueProblems(issue, source)
          : [{ file: '<environment>', line: 1, column: 1, message: `${issue.path.join('.')}: ${issue.message}` }],
      ),
    );
  }
  const secrets: string[] = [];
  const problems: SourceProblem[] = [];
  resolveSecretFiles(parsed.data, [], secrets, (p, message) =>
    problems.push(source ? source.problemAtKey(p, message) : { file: '<env>', line: 1, column: 1, message }),
  );
  if (problems.length > 0) throw new SourceError(problems);
  return { ...parsed.data, source: options.file ?? '<defaults>', secrets };
}

function applyEnvOverrides(value: Record<string, unknown>, env: Record<string, string | undefined>): void {
  for (const [name, keyPath] of Object.entries(ENV_OVERRIDES)) {
    const override = env[name];
    if (override === undefined || override === '') continue;
    let target = value;
    keyPath.slice(0, -1).forEach((key) => {
      const next = target[key];
      if (typeof next !== 'object' || next === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    });
    const last = keyPath[keyPath.length - 1] as string;
    target[last] = name === 'FAULTDESK_RULES' && override.includes(',') ? override.split(',') : override;
  }
}

/**
 * Every `x_file` key is read into `x` (trailing newline dropped), as Alertmanager
 * and Prometheus do for credentials. Setting both is an error.
 */
function resolveSecretFiles(
  node: unknown,
  at: PropertyKey[],
  secrets: string[],
  report: (path: PropertyKey[], message: string) => void,
): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  const record = node as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (key.endsWith('_file') && typeof value === 'string') {
      const base = key.slice(0, -'_file'.length);
      if (record[base] !== undefined) {
        report([...at, key], `set either ${base} or ${key}, not both`);
        continue;
      }
      try {
        const secret = readFileSync(path.resolve(value), 'utf8').replace(/\r?\n$/, '');
        if (secret === '') report([...at, key], `${key}: file ${value} is empty`);
        record[base] = secret;
        secrets.push(secret);
      } catch (err) {
        report([...at, key], `${key}: cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      delete record[key];
    } else if (isSecretKey(key) && typeof value === 'string') {
      secrets.push(value);
    } else {
      resolveSecretFiles(value, [...at, key], secrets, report);
    }
  }
}

function isSecretKey(key: string): boolean {
  return /(^|_)(token|password|secret|credentials)$/.test(key);
}
