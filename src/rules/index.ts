export type { Category, FlappingPolicy, TicketSystemName } from './category';
export { RuleEngine, faultKey, severityOf, priorityOf, type Classification } from './engine';
export { loadRules, compileRuleSources, listRuleFiles, type LoadedRules, type RuleContext } from './loader';
export { parseMatcher, parseMatchers, newMatcher, MatcherSyntaxError, type Matcher } from './matcher';
export { createTemplateEngine, type Template } from './templates';
export { renderFields, type CompiledField, type FieldValue } from './fields';
export { tryCategories, findShadowed, type TriedCategory, type ShadowWarning } from './analysis';
