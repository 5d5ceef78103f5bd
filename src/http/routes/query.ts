import type { Request } from 'express';
import type { z } from 'zod';
import { invalid, issueFields } from '../../errors';

/** A query string checked against its schema; 400 with the offending parameters otherwise. */
export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const parsed = schema.safeParse(req.query);
  if (!parsed.success) throw invalid('invalid query', issueFields(parsed.error.issues, '(query)'));
  return parsed.data;
}

/** A JSON body checked against its schema; 400 with the offending fields otherwise. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what = 'body'): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalid(`invalid ${what}`, issueFields(parsed.error.issues));
  return parsed.data;
}
