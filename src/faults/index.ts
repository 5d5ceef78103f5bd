export { FaultService, type FaultServiceDeps, type IngestResult } from './service';
export {
  renderRecord,
  renderComment,
  renderTicket,
  renderSubject,
  ticketContext,
  sampleTicketContext,
  alertView,
  type FaultRecord,
  type TicketContext,
  type TemplateFailure,
} from './render';
export { formatTime, roughDuration, dueText, agoText } from './time-text';
export { faultIdent, labelText, timelineJson, type OperationKind, type OperationPayload, type FaultState } from './model';
export { explainAlerts, type Explanation } from './explain';
export { draftFault } from './draft';
export { KnownAlerts, knownAlertsOptions, type KnownAlertsOptions } from './known-alerts';
