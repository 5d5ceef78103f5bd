import type { z } from 'zod';
import type { SourceProblem, YamlSource } from './yaml-source';

/**
 * A zod issue as problems located in the YAML file: an unknown key at the key,
 * anything else at the value (or where the missing value should be).
 */
export function issueProblems(issue: z.core.$ZodIssue, source: YamlSource, prefix: readonly PropertyKey[] = []): SourceProblem[] {
  const path = [...prefix, ...issue.path];
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => source.problemAtKey([...path, key], `${where}unknown key "${key}"`));
  }
  const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
  return [source.problemAt(path, `${where}${missing ? `required (${issue.expected})` : issue.message}`)];
}
