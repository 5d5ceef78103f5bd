export { SatisfactionService, type SatisfactionSettings, type SatisfactionSummary } from './satisfaction';
