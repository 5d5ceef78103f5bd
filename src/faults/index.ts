export { FaultService, type FaultServiceDeps, type IngestResult } from './service';
export { renderRecord, renderComment, ticketContext, sampleTicketContext, alertView, type FaultRecord, type TicketContext } from './render';
export { faultIdent, labelText, timelineJson, type OperationKind, type OperationPayload, type FaultState } from './model';
export { explainAlerts, type Explanation } from './explain';
export { draftFault } from './draft';
export { KnownAlerts, knownAlertsOptions, type KnownAlertsOptions } from './known-alerts';
