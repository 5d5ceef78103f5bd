export * from './types';
export { LocalTicketSystem } from './local';
export { ZendeskTicketSystem, type ZendeskOptions } from './zendesk';
export { ServiceNowTicketSystem, ServiceNowOAuth, type ServiceNowOptions } from './servicenow';
export { createTicketSystems, type ConfiguredSystem } from './registry';
export { retryAfterMs, cut } from './http';
