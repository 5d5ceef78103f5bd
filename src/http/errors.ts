import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../log';

export interface InvalidField {
  path: string;
  message: string;
}

/** The one error model of the HTTP layer: a status, a stable name, and details for the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: InvalidField[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, errors?: InvalidField[]) => new HttpError(400, 'bad_request', message, errors);
export const unauthorized = (realm: string) =>
  new HttpError(401, 'unauthorized', 'missing or wrong credentials', undefined, {
    'WWW-Authenticate': `Bearer realm="${realm}", Basic realm="${realm}"`,
  });
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const unavailable = (message: string) => new HttpError(503, 'unavailable', message, undefined, { 'Retry-After': '5' });

interface BodyParserError {
  type?: string;
  status?: number;
  message: string;
}

/** Any error as the HTTP error it answers: body-parser's by their type, anything unknown as a 500. */
export function toHttpError(err: unknown): HttpError {
  const parserError = err as BodyParserError;
  if (err instanceof HttpError) return err;
  if (parserError.type === 'entity.too.large') return new HttpError(413, 'too_large', `request body is larger than the limit (${parserError.message})`);
  if (parserError.type === 'entity.parse.failed') return badRequest(`body is not valid JSON: ${parserError.message}`);
  if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') return new HttpError(415, 'unsupported_encoding', parserError.message);
  if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) return new HttpError(parserError.status, 'bad_request', parserError.message);
  return new HttpError(500, 'internal', 'internal error');
}

/** The JSON body of an error answer. */
export function errorBody(error: HttpError): { status: 'error'; error: string; errors?: InvalidField[] } {
  return { status: 'error', error: error.message, ...(error.errors ? { errors: error.errors } : {}) };
}

/** Logs 5xx as errors and 4xx at debug only. */
export function logRefusal(logger: Logger, method: string | undefined, path: string, error: HttpError, err: unknown): void {
  if (error.status >= 500) logger.error('request failed', { method, path, status: error.status, err });
  else if (logger.isLevelEnabled('debug')) logger.debug('request refused', { method, path, status: error.status, error: error.message });
}

/** Maps every error to a JSON answer. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = toHttpError(err);
    logRefusal(logger, req.method, req.path, error, err);
    res.status(error.status).set(error.headers).json(errorBody(error));
  };
}
