export { loadConfig, type Config, type LoadConfigOptions } from './load';
export { configSchema, durationMs } from './schema';
export { parseDuration, formatDuration } from './duration';
export { parseYamlSource, SourceError, formatProblem, type SourceProblem, type YamlSource } from './yaml-source';
export { issueProblems } from './issues';
