export { Outbox, type OutboxDeps } from './outbox';
export { OutboxWorker, type OutboxWorkerDeps, type OutboxWorkerOptions } from './worker';
export { backoffDelay, type BackoffPolicy } from './backoff';
