import type { FieldSpecRaw } from '../config/schema';
import type { Template } from './templates';

/** A ticket field's value as sent: JSON. */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/** A compiled ticket field: templates compiled once, at load. */
export type CompiledField =
  | { kind: 'literal'; value: number | boolean }
  | { kind: 'text'; template: Template }
  /** `{ number: "{{...}}" }`: rendered, then sent as a number (left out when it is not one). */
  | { kind: 'number'; template: Template }
  | { kind: 'list'; items: CompiledField[] }
  | { kind: 'map'; entries: Record<string, CompiledField> };

/** Compiles the template at a path, or reports why not and answers undefined. */
export type TemplateCompiler = (path: PropertyKey[], source: string) => Template | undefined;

export function compileField(spec: FieldSpecRaw, compile: TemplateCompiler, at: PropertyKey[] = []): CompiledField | undefined {
  if (typeof spec === 'string') {
    const template = compile(at, spec);
    return template && { kind: 'text', template };
  }
  if (typeof spec === 'number' || typeof spec === 'boolean') return { kind: 'literal', value: spec };
  if (Array.isArray(spec)) {
    const items = spec.map((item, i) => compileField(item, compile, [...at, i]));
    return items.every((i) => i !== undefined) ? { kind: 'list', items: items as CompiledField[] } : undefined;
  }
  const keys = Object.keys(spec);
  if (keys.length === 1 && keys[0] === 'number' && typeof spec.number === 'string') {
    const template = compile([...at, 'number'], spec.number);
    return template && { kind: 'number', template };
  }
  const entries: Record<string, CompiledField> = {};
  let ok = true;
  for (const key of keys) {
    const compiled = compileField(spec[key] as FieldSpecRaw, compile, [...at, key]);
    if (compiled) entries[key] = compiled;
    else ok = false;
  }
  return ok ? { kind: 'map', entries } : undefined;
}

/**
 * Renders fields; a `number` field that does not render to a number is left
 * out, and so is a field whose template throws (told to `onError`, when given;
 * without it, the error is thrown).
 */
export function renderFields(
  fields: Record<string, CompiledField>,
  context: object,
  onError?: (field: string, err: unknown) => void,
): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [key, field] of Object.entries(fields)) {
    let value: FieldValue | undefined;
    try {
      value = renderField(field, context);
    } catch (err) {
      if (!onError) throw err;
      onError(key, err);
    }
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function renderField(field: CompiledField, context: object): FieldValue | undefined {
  switch (field.kind) {
    case 'literal':
      return field.value;
    case 'text':
      return field.template.render(context);
    case 'number': {
      const text = field.template.render(context).trim();
      const n = Number(text);
      return text !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'list':
      return field.items.map((i) => renderField(i, context)).filter((v): v is FieldValue => v !== undefined);
    case 'map': {
      const out: Record<string, FieldValue> = {};
      for (const [key, entry] of Object.entries(field.entries)) {
        const value = renderField(entry, context);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
  }
}
