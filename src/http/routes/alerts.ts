import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { mayHoldNul, SOURCE_NAMES, type SourceName } from '../../sources';
import { countRejection, type Ingest, type IngestDeps } from '../ingest';
import { toAppError } from '../errors';
import type { Registrar } from './registrar';

/**
 * The sources' webhooks through Express: Nagios (form fields), and whatever
 * the fast route leaves (compressed or non-UTF-8 bodies, query strings).
 * JSON whatever the Content-Type (curl -d says form-encoded by default),
 * except for Nagios, whose notify commands send form fields so that plugin
 * output needs no escaping.
 */
export function alertRoutes(routes: Registrar, deps: IngestDeps, ingest: Ingest): void {
  const limit = deps.config.http.max_body_bytes;
  const isForm = (req: Request) => req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
  // JSON escapes every NUL as \u0000: a UTF-8 body without that text has none, and needs no walk.
  const nulFree = new WeakSet<object>();
  const verify = (req: object, _res: unknown, buf: Buffer, encoding: string) => {
    if (encoding === 'utf-8' && !mayHoldNul(buf)) nulFree.add(req);
  };
  const jsonBody = express.json({ limit, type: () => true, strict: false, verify });
  const jsonUnlessForm = express.json({ limit, type: (req) => !isForm(req as Request), strict: false, verify });
  const formBody = express.urlencoded({ limit, extended: false, type: (req) => isForm(req as Request), parameterLimit: 200 });

  for (const name of SOURCE_NAMES) {
    const store: RequestHandler = async (req, res) => {
      res.status(200).json({ status: 'success', ...(await ingest(name, req.body, nulFree.has(req))) });
    };
    // Every refusal of a webhook is counted with its reason, whichever step refused it.
    const counted: ErrorRequestHandler = (err, _req, _res, next) => {
      countRejection(deps, name, toAppError(err));
      next(err);
    };
    const parsers = name === 'nagios' ? [formBody, jsonUnlessForm] : [jsonBody];
    routes.post(`/api/v1/alerts/${name}`, { kind: 'source', source: name as SourceName }, ...parsers, store, counted as unknown as RequestHandler);
  }
}
