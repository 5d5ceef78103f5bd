export { MailPlanner, type EmailConfig, type MailPayload, type DigestPayload, type MailSnapshot, type MailEventInput } from './planner';
export type { MailHandler, MailHandlerDeps } from './mailer';
export { createMailTemplates, type MailTemplates, type RenderedMail } from './templates';
