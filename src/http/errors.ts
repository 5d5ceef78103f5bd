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

/** Maps every error to a JSON answer; logs 5xx as errors and 4xx at debug only. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let error: HttpError;
    const parserError = err as BodyParserError;
    if (err instanceof HttpError) error = err;
    else if (parserError.type === 'entity.too.large') error = new HttpError(413, 'too_large', `request body is larger than the limit (${parserError.message})`);
    else if (parserError.type === 'entity.parse.failed') error = badRequest(`body is not valid JSON: ${parserError.message}`);
    else if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported')
      error = new HttpError(415, 'unsupported_encoding', parserError.message);
    else if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500)
      error = new HttpError(parserError.status, 'bad_request', parserError.message);
    else error = new HttpError(500, 'internal', 'internal error');

    if (error.status >= 500) logger.error('request failed', { method: req.method, path: req.path, status: error.status, err });
    else logger.debug('request refused', { method: req.method, path: req.path, status: error.status, error: error.message });
    res.status(error.status).set(error.headers).json({
      status: 'error',
      error: error.message,
      ...(error.errors ? { errors: error.errors } : {}),
    });
  };
}
