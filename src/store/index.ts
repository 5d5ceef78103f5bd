export { openStore, sqliteFile, StoreUrlError, type StoreOptions } from './store';
export { memoryStore } from './memory';
export { withStoreRetry } from './retry';
export type * from './types';
