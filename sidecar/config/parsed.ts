import { quoteUntrusted } from '../spiffe/index.ts';

/** The outcome of checking one value: the typed value, or why it is wrong. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** A successful check. */
export function accept<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/** A failed check; `message` is what the operator reads after the path. */
export function reject<T>(message: string): Parsed<T> {
  return { ok: false, message };
}

/** Quotes a configured value for a message: escaped, cut when long (values may come from env). */
export function quoted(value: unknown): string {
  return quoteUntrusted(typeof value === 'string' ? value : String(value), 120);
}

/** Describes a value's YAML-level type for "must be a string, got ..." messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${quoted(value)}`;
}
