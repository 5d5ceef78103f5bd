/** Why a delivery (a ticket operation, a mail) failed; a small fixed set, used as a metric label. */
export type FailureReason =
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'connection'
  | 'unauthorized'
  | 'forbidden'
  | 'bad_request'
  | 'not_found'
  | 'conflict'
  | 'closed'
  | 'rejected'
  | 'unknown';

/** A failed delivery: whether trying again may help, and when the other side asked us to. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly reason: FailureReason,
    readonly retryable: boolean,
    /** From a Retry-After header, when the system sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}
