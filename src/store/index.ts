export { openStore, StoreUrlError, type Store, type StoreOptions } from './store';
export type { Repos, FaultRow, AlertRow, NewAlertRow, OutboxRow, NewOutboxRow, LocalTicketRow } from './repos';
export type { Dialect } from './migrations';
