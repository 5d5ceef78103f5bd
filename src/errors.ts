/**
 * The one error model: every error faultdesk raises on purpose is an AppError
 * of a kind from a fixed set. The kind is the stable name clients, logs and
 * metrics see (it is the `reason` of faultdesk_payloads_rejected_total), and
 * it fixes the HTTP status, so no route maps errors on its own.
 */
const STATUS = {
  /** A body or query that parsed but breaks the schema (the fields say where). */
  invalid: 400,
  /** A body that does not parse at all (JSON or form syntax). */
  malformed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_encoding: 415,
  /** The store could not take the request now; the client should retry. */
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorKind = keyof typeof STATUS;

export interface InvalidField {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  fields?: InvalidField[];
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly fields?: InvalidField[];
  readonly headers: Record<string, string>;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.fields = options.fields;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

export const invalid = (message: string, fields?: InvalidField[]) => new AppError('invalid', message, { fields });
export const malformed = (message: string) => new AppError('malformed', message);
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', message);
export const unavailable = (message: string, cause?: unknown) => new AppError('unavailable', message, { headers: { 'Retry-After': '5' }, cause });

/** zod issues as the field list of an `invalid` error. */
export function issueFields(issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string; code?: string }>, root = '(body)'): InvalidField[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || root, message: i.message }));
}
