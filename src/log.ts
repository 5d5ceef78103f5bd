import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level: string;
  /** Values that must never appear in a log line (tokens, passwords). */
  secrets?: readonly string[];
  /** Where lines go; tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

const REDACTED = '<secret>';

/** JSON lines, one per event, with every known secret replaced wherever it appears. */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  // Errors passed as fields (`{ err }`) become their name and message, with every secret removed.
  const redact = winston.format((info) => {
    const clean = redactValue(info, secrets, 0) as winston.Logform.TransformableInfo;
    // winston keeps the level under a Symbol as well; keep those keys.
    for (const sym of Object.getOwnPropertySymbols(info)) {
      (clean as unknown as Record<symbol, unknown>)[sym] = (info as unknown as Record<symbol, unknown>)[sym];
    }
    return clean;
  });
  // winston formats every line before its transport filters by level: drop disabled levels first.
  const enabled = winston.format((info) => (logger.isLevelEnabled(info.level) ? info : false));
  const logger: Logger = winston.createLogger({
    level: options.level,
    format: winston.format.combine(
      enabled(),
      winston.format.errors({ stack: false }),
      winston.format.timestamp(),
      redact(),
      winston.format.json(),
    ),
    transports: [
      options.stream
        ? new winston.transports.Stream({ stream: options.stream })
        : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
  });
  return logger;
}

function redactValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: redactValue(value.message, secrets, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, secrets, depth + 1);
  return out;
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
