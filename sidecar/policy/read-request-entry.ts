import { quoteUntrusted } from '../spiffe/index.ts';
import { isObject, typeName, type DocumentReader } from './document-reader.ts';
import { methodProblem } from './http-method.ts';
import { normalizePath } from './normalize-path.ts';
import { PathTemplate } from './path-template.ts';
import type { RequestEntry } from './request-matcher.ts';

const V1_KEYS = ['paths', 'pathPrefixes', 'methods'] as const;
const V2_KEYS = ['paths', 'pathPrefixes', 'pathTemplates', 'methods'] as const;

/** Validates one `to` entry; returns it in canonical form, or undefined after recording its problems. */
export function readRequestEntry(raw: unknown, at: string, r: DocumentReader): RequestEntry | undefined {
  const keys = r.version === 1 ? V1_KEYS : V2_KEYS;
  if (!isObject(raw)) {
    r.add(`${at}: expected an object with ${keys.slice(0, -1).join(', ')} and/or methods, got ${typeName(raw)}`);
    return undefined;
  }
  r.keys(raw, at, V1_KEYS, V2_KEYS);
  const given = keys.filter((k) => Object.hasOwn(raw, k));
  if (given.length === 0) {
    r.add(`${at}: needs ${keys.slice(0, -1).join(', ')} or methods; omit "to" to allow any request`);
    return undefined;
  }
  const entry: { -readonly [K in keyof RequestEntry]: RequestEntry[K] } = {};
  if (Object.hasOwn(raw, 'paths')) {
    entry.paths = r.strings(raw['paths'], `${at}.paths`, (p) => {
      if (p === '/') return 'would match every path (entries ending in "/" are prefixes); omit paths to allow any path';
      return pathProblem(p);
    });
  }
  if (Object.hasOwn(raw, 'pathPrefixes')) entry.pathPrefixes = r.strings(raw['pathPrefixes'], `${at}.pathPrefixes`, pathProblem);
  if (Object.hasOwn(raw, 'pathTemplates') && r.version === 2) {
    entry.pathTemplates = r.strings(raw['pathTemplates'], `${at}.pathTemplates`, (t) => {
      const p = PathTemplate.parse(t);
      return p.ok ? { value: p.template.text } : p.problem;
    });
  }
  if (Object.hasOwn(raw, 'methods')) entry.methods = r.strings(raw['methods'], `${at}.methods`, methodProblem);
  return entry;
}

/**
 * Why a path written in a policy can never match, or undefined. Requests are
 * matched after normalizePath, so a pattern must already be in that form.
 */
function pathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'must start with "/"';
  if (p.includes('?') || p.includes('#')) return 'policies match the path only; remove the query or fragment';
  if (p.includes('*')) {
    return 'wildcards are not supported; end a path with "/" (or use pathPrefixes) to match everything below it';
  }
  const n = normalizePath(p);
  if (!n.ok) return `can never match: requests with it are refused (${n.reason})`;
  if (n.path !== p) return `not in normal form, so it could never match; write ${quoteUntrusted(n.path)}`;
  return undefined;
}
