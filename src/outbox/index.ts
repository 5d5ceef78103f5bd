export { Outbox, type OutboxDeps } from './outbox';
export { OutboxWorker, type OperationHandler, type OutboxWorkerDeps, type OutboxWorkerOptions } from './worker';
export { TicketHandler, type TicketHandlerDeps } from './ticket-handler';
export { backoffDelay, type BackoffPolicy } from './backoff';
