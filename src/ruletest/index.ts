export { runRuleTests, formatResults, type TestResult } from './runner';
