export { FaultService, type FaultServiceDeps, type IngestResult, type TicketEventOutcome } from './service';
export { toTicketChanged, isOwnActor, type InboundSettings } from './ticket-events';
export { decide, type Decision, type AlertWrite } from './decide';
export { UnitOfWork, type ClassifiedAlert, type MailPlanning, type Transition, type AppliedAlert } from './unit-of-work';
export { ticketSubject } from './subject';
export {
  renderRecord,
  humanLoopJson,
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
export { faultFromRow, faultToRow, alertIdent, type Fault, type AlertRecord, type MailLog, type MailSnapshot } from './fault';
export type { FaultEvent, HumanEvent, TimerEvent, AlertEvent, Actor } from './events';
export type { Intent, TicketIntent, MailIntent, TransitionName } from './intents';
export { policyOf, type Policy, type LoopSettings } from './policy';
export { explainAlerts, type Explanation } from './explain';
export { KnownAlerts, knownAlertsOptions, type KnownAlertsOptions } from './known-alerts';
export { RepeatCache } from './repeat-cache';
export { GroupCommit } from './group-commit';
export { staleWindows, type StaleWindow } from './stale';
