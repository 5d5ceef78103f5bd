import type { ErrorRequestHandler } from 'express';
import { AppError, malformed, type InvalidField } from '../errors';
import type { Logger } from '../log';

export { AppError, invalid, malformed, notFound, unavailable, type InvalidField } from '../errors';

export const unauthorized = (realm: string) =>
  new AppError('unauthorized', 'missing or wrong credentials', {
    headers: { 'WWW-Authenticate': `Bearer realm="${realm}", Basic realm="${realm}"` },
  });
export const forbidden = (needs: string) => new AppError('forbidden', `these credentials may not do this: it needs the ${needs} role`);

interface BodyParserError {
  type?: string;
  status?: number;
  message: string;
}

/** Any error as the AppError it answers: body-parser's by their type, anything unknown as a 500. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const parserError = (err ?? {}) as BodyParserError;
  if (parserError.type === 'entity.too.large') return new AppError('too_large', `request body is larger than the limit (${parserError.message})`);
  if (parserError.type === 'entity.parse.failed') return malformed(`body is not valid JSON: ${parserError.message}`);
  if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') return new AppError('unsupported_encoding', parserError.message);
  if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) return malformed(parserError.message);
  return new AppError('internal', 'internal error', { cause: err });
}

/** The JSON body of an error answer. */
export function errorBody(error: AppError): { status: 'error'; error: string; errors?: InvalidField[] } {
  return { status: 'error', error: error.message, ...(error.fields ? { errors: error.fields } : {}) };
}

/**
 * Logs 5xx as errors and 4xx at debug only: a client's mistake is not ours.
 * A parser's message quotes the body it failed on, so that one is not logged.
 */
export function logRefusal(logger: Logger, method: string | undefined, path: string, error: AppError, err: unknown): void {
  if (error.status >= 500) logger.error('request failed', { method, path, status: error.status, kind: error.kind, err });
  else if (logger.isLevelEnabled('debug')) {
    logger.debug('request refused', { method, path, status: error.status, kind: error.kind, ...(error.kind === 'malformed' ? {} : { error: error.message }) });
  }
}

/** Maps every error to a JSON answer: the one place Express turns errors into HTTP. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = toAppError(err);
    logRefusal(logger, req.method, req.path, error, err);
    res.status(error.status).set(error.headers).json(errorBody(error));
  };
}
