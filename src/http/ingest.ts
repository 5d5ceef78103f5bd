import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import type { Config } from '../config';
import { invalid, malformed, unavailable, type AppError } from '../errors';
import type { FaultService, IngestResult } from '../faults';
import type { Logger } from '../log';
import type { Metrics, RejectionReason } from '../metrics';
import type { Clock } from '../clock';
import { mayHoldNul, SOURCE_NAMES, type SourceName, type Sources } from '../sources';
import type { AccessControl } from './auth';
import { errorBody, logRefusal, toAppError } from './errors';

export interface IngestDeps {
  config: Pick<Config, 'auth' | 'http'>;
  access: AccessControl;
  faults: FaultService;
  sources: Sources;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** False until the daemon has finished starting and after it begins to stop. */
  isReady: () => boolean;
}

/**
 * Validates a parsed webhook body and stores its alerts; throws the AppError
 * to answer. `nulFree` says the raw text was seen to hold no NUL character,
 * which saves walking the body for one (see Source.parse).
 */
export type Ingest = (name: SourceName, body: unknown, nulFree: boolean) => Promise<IngestResult>;

export function createIngest({ faults, sources, logger, clock }: IngestDeps): Ingest {
  return async (name, body, nulFree) => {
    const parsed = sources[name].parse(body, clock.now(), { nulFree });
    if (!parsed.ok) throw invalid(`invalid ${name} payload`, parsed.errors);
    try {
      return await faults.ingest(name, parsed.alerts);
    } catch (err) {
      logger.error('could not store alerts; the sender will retry', { source: name, alerts: parsed.alerts.length, err });
      throw unavailable('alerts could not be stored; retry later', err);
    }
  };
}

/**
 * Counts a refused webhook request by its reason, and logs it at debug with
 * the source and reason only: never the body (a parser's message quotes it)
 * nor the credentials.
 */
export function countRejection(deps: Pick<IngestDeps, 'metrics' | 'logger'>, source: string, error: AppError): void {
  if (!(SOURCE_NAMES as readonly string[]).includes(source)) return;
  const reason: RejectionReason = error.kind === 'unavailable' ? 'store_unavailable' : (error.kind as RejectionReason);
  deps.metrics.payloadsRejected.inc({ source, reason: REASONS.has(reason) ? reason : 'internal' });
  if (deps.logger.isLevelEnabled('debug')) deps.logger.debug('payload rejected', { source, reason });
}

const REASONS: ReadonlySet<string> = new Set<RejectionReason>(['unauthorized', 'forbidden', 'malformed', 'invalid', 'too_large', 'unsupported_encoding', 'store_unavailable', 'internal']);

const JSON_SOURCES: readonly SourceName[] = ['alertmanager', 'zabbix', 'generic'];

/**
 * The webhooks of the JSON sources, answered on Node's HTTP server without
 * Express: Express's routing and body parsing cost more per request than
 * storing ten repeated alerts (see bench/ and the README's performance
 * section). It answers exactly as the Express routes do: the same
 * credentials, limits, validation, errors and metrics. Anything unusual
 * (a compressed or non-UTF-8 body, a query string) is left to Express.
 */
export function createFastIngestRoute(deps: IngestDeps, ingest: Ingest) {
  const { config, metrics, logger, isReady, access } = deps;
  const routes = new Map(JSON_SOURCES.map((name) => [`/api/v1/alerts/${name}`, name]));
  const limit = config.http.max_body_bytes;

  function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function answer(req: IncomingMessage, res: ServerResponse, name: SourceName): Promise<void> {
    access.check({ kind: 'source', source: name }, req);
    let text: string;
    try {
      text = await getRawBody(req, { length: req.headers['content-length'], limit, encoding: 'utf-8' });
    } catch (err) {
      // As body-parser does: read the rest of the request before answering, so the client sees the answer.
      await drained(req);
      throw err;
    }
    let body: unknown = {};
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw malformed(`body is not valid JSON: ${(err as Error).message}`);
      }
    }
    send(res, 200, { status: 'success', ...(await ingest(name, body, !mayHoldNul(text))) });
  }

  return {
    /** Whether this route answers the request; otherwise Express does. */
    handles(req: IncomingMessage): boolean {
      if (req.method !== 'POST' || !routes.has(req.url ?? '')) return false;
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
      return charset === undefined || charset === 'utf-8' || charset === 'utf8';
    },
    handle(req: IncomingMessage, res: ServerResponse): void {
      const name = routes.get(req.url ?? '') as SourceName;
      const started = process.hrtime.bigint();
      if (!isReady()) res.setHeader('Connection', 'close');
      res.on('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpDuration.observe({ method: 'POST', route: `/api/v1/alerts/${name}`, code: String(res.statusCode) }, seconds);
      });
      answer(req, res, name).catch((err: unknown) => {
        const error = toAppError(err);
        countRejection(deps, name, error);
        logRefusal(logger, req.method, req.url ?? '', error, err);
        if (res.headersSent) res.destroy();
        else send(res, error.status, errorBody(error), error.headers);
      });
    },
  };
}

function drained(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.complete || req.destroyed) return resolve();
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}
