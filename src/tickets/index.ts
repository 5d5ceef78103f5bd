export * from './types';
export { LocalTicketSystem } from './local';
