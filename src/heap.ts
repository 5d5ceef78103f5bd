import { setFlagsFromString } from 'node:v8';

/** How far V8 lets the heap grow past what a full collection left, in percent. */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Bounds how far V8 lets the heap grow between full collections. By default
 * V8 lets a heap that it collects quickly grow to up to four times what the
 * last full collection kept; while tickets are created a thousand a second
 * the garbage of rendering and writing them is promoted before it dies, and
 * the resident set rose to about 390 MiB for 100,000 faults (bench/memory.mjs)
 * with only some 50 MiB of it live. V8 reads the factor at each collection,
 * so setting it once the process runs takes effect. Someone who starts node
 * with their own --heap-growing-percent keeps it.
 */
export function boundHeapGrowth(execArgv: readonly string[], setFlags: (flags: string) => void = setFlagsFromString): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))) return false;
  setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
