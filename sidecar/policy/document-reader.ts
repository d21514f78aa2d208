import { quoteUntrusted } from '../spiffe/index.ts';

/** Which document version is being read, and for what kind of listener. */
export interface ReadContext {
  /** 1 or 2; an unsupported or missing version is read as 2, so the other problems still show. */
  readonly version: 1 | 2;
  /** 'tcp' when the policy guards TCP tunnels: request-level keys are refused. */
  readonly context: 'http' | 'tcp';
}

/**
 * Collects the problems of one policy document while it is read, and holds
 * the shared checks (lists, strings, known keys). Every problem starts with
 * its location, e.g. `rules[2].from[0].id: ...`.
 */
export class DocumentReader {
  readonly problems: string[] = [];
  readonly version: 1 | 2;
  readonly context: 'http' | 'tcp';

  constructor(ctx: ReadContext) {
    this.version = ctx.version;
    this.context = ctx.context;
  }

  /** Records one problem. */
  add(problem: string): void {
    this.problems.push(problem);
  }

  /** A non-empty list, or undefined after recording why not. */
  list(raw: unknown, at: string, emptyHint: string): unknown[] | undefined {
    if (!Array.isArray(raw)) {
      this.add(`${at}: expected a list, got ${typeName(raw)}`);
      return undefined;
    }
    if (raw.length === 0) {
      this.add(`${at}: empty list (${emptyHint})`);
      return undefined;
    }
    return raw;
  }

  /** A non-empty list of strings, recording a problem per bad item; returns the good ones (`check` may rewrite them). */
  strings(raw: unknown, at: string, check: (s: string) => string | { readonly value: string } | undefined): string[] {
    const list = this.list(raw, at, 'omit the key instead');
    const out: string[] = [];
    list?.forEach((v, i) => {
      if (typeof v !== 'string') {
        this.add(`${at}[${i}]: expected a string, got ${typeName(v)}`);
        return;
      }
      const problem = check(v);
      if (typeof problem === 'string') this.add(`${at}[${i}]: ${quoteUntrusted(v)}: ${problem}`);
      else out.push(problem === undefined ? v : problem.value);
    });
    return out;
  }

  /**
   * Records a problem for every key of `obj` outside the version's set:
   * keys that only version 2 knows get "set version: 2", others a list of
   * the expected keys and a did-you-mean.
   */
  keys(obj: Record<string, unknown>, at: string, v1: readonly string[], v2: readonly string[]): void {
    const allowed = this.version === 1 ? v1 : v2;
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const shown = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : quoteUntrusted(key);
      const where = at === '' ? shown : `${at}.${shown}`;
      if (this.version === 1 && v2.includes(key)) {
        this.add(`${where}: "${key}" is a version 2 key; set "version: 2" at the top of the document to use it`);
        continue;
      }
      const guess = suggestKey(key, allowed);
      const hint = guess === undefined ? '' : `; did you mean "${guess}"?`;
      this.add(`${where}: unknown key (expected ${allowed.join(', ')})${hint}`);
    }
  }

  /** Records that `key` looks at the HTTP request and so cannot be used in a TCP policy; true when refused. */
  refuseForTcp(obj: Record<string, unknown>, key: string, at: string, why: string): boolean {
    if (this.context !== 'tcp' || !Object.hasOwn(obj, key)) return false;
    this.add(`${at === '' ? key : `${at}.${key}`}: not available in a policy for TCP connections, which have no ${why}; remove it (it could never match)`);
    return true;
  }
}

/** A likely intended key for a misspelt one: other case, '-'/'_' added, or singular/plural. */
function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return allowed.find((a) => {
    const l = a.toLowerCase();
    return l === k || l === k + 's' || l === k + 'es' || l + 's' === k;
  });
}

/** True for a JSON object (not null, not a list). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** What a value is, for "expected X, got Y" messages; strings are quoted safely. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${describeValue(v)}`;
}

/** A value as a message shows it. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return quoteUntrusted(v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || v === undefined) return String(v);
  return typeName(v);
}
