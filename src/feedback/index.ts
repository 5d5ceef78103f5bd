export { SatisfactionService, UnknownFaultError, type SatisfactionSettings, type SatisfactionSummary } from './satisfaction';
