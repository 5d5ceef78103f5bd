export { OutboxWorker, type OutboxWorkerDeps, type OutboxWorkerOptions } from './worker';
export { backoffDelay, type BackoffPolicy } from './backoff';
