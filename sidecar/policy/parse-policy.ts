import { describeError } from '../core/index.ts';
import { SpiffeId, SpiffeIdError, TrustDomain, quoteUntrusted } from '../spiffe/index.ts';
import type { CallerEntry } from './caller-matcher.ts';
import { methodProblem } from './http-method.ts';
import { normalizePath } from './normalize-path.ts';
import { PolicyError } from './policy-error.ts';
import { policyFromValidatedRules, type Policy, type RuleDocument } from './policy.ts';
import type { RequestEntry } from './request-matcher.ts';

/** The only document version this sidecar reads. */
export const POLICY_VERSION = 1;

/** Rule names appear in decisions, logs and metric labels: short, and nothing to escape. */
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const DOCUMENT_KEYS = ['version', 'rules'] as const;
const RULE_KEYS = ['name', 'from', 'to'] as const;
const FROM_KEYS = ['id', 'idPrefix', 'trustDomain'] as const;
const TO_KEYS = ['paths', 'pathPrefixes', 'methods'] as const;

/**
 * Validates a policy document (already parsed from YAML or JSON by the
 * caller) and compiles it. Pure. Every problem is collected and reported in
 * one {@link PolicyError} with code 'policy.invalid', each line starting with
 * its location (`rules[2].from[0].id: ...`). `source` names the document in
 * the message. The format is described in docs/policy.md.
 */
export function parsePolicy(input: unknown, source: string): Policy {
  const problems: string[] = [];
  const rules = readDocument(input, problems);
  if (problems.length > 0) throw new PolicyError('policy.invalid', source, problems);
  return policyFromValidatedRules(source, rules);
}

type Problems = string[];

function readDocument(input: unknown, problems: Problems): RuleDocument[] {
  if (!isObject(input)) {
    problems.push(`(document): expected an object with "version" and "rules", got ${typeName(input)}`);
    return [];
  }
  checkKeys(input, DOCUMENT_KEYS, '', problems);
  if (!Object.hasOwn(input, 'version')) {
    problems.push(`version: required; write "version: ${POLICY_VERSION}"`);
  } else if (input['version'] !== POLICY_VERSION) {
    problems.push(
      `version: unsupported version ${describeValue(input['version'])}; this sidecar reads version ${POLICY_VERSION}`,
    );
  }
  if (!Object.hasOwn(input, 'rules')) {
    problems.push('rules: required (a list of rules; an empty list denies everything)');
    return [];
  }
  const rawRules = input['rules'];
  if (!Array.isArray(rawRules)) {
    problems.push(`rules: expected a list, got ${typeName(rawRules)}`);
    return [];
  }
  const rules: RuleDocument[] = [];
  const firstUse = new Map<string, string>();
  rawRules.forEach((raw: unknown, i) => {
    const at = `rules[${i}]`;
    const rule = readRule(raw, at, problems);
    if (rule === undefined) return;
    const earlier = firstUse.get(rule.name);
    if (earlier !== undefined) {
      problems.push(`${at}.name: duplicate rule name ${quoteUntrusted(rule.name)} (first used at ${earlier})`);
    } else {
      firstUse.set(rule.name, at);
    }
    rules.push(rule);
  });
  return rules;
}

/** Returns the rule when its name is usable (to check duplicates); other problems are only recorded. */
function readRule(raw: unknown, at: string, problems: Problems): RuleDocument | undefined {
  if (!isObject(raw)) {
    problems.push(`${at}: expected a rule object with "name" and "from", got ${typeName(raw)}`);
    return undefined;
  }
  checkKeys(raw, RULE_KEYS, at, problems);

  let name: string | undefined;
  const rawName = raw['name'];
  if (!Object.hasOwn(raw, 'name')) problems.push(`${at}.name: required`);
  else if (typeof rawName !== 'string') problems.push(`${at}.name: expected a string, got ${typeName(rawName)}`);
  else if (!RULE_NAME.test(rawName)) {
    problems.push(
      `${at}.name: ${quoteUntrusted(rawName)} is not a valid rule name ` +
        '(1-63 characters: letters, digits, ".", "_", "-"; starting with a letter or digit)',
    );
  } else name = rawName;

  const from: CallerEntry[] = [];
  if (!Object.hasOwn(raw, 'from')) {
    problems.push(`${at}.from: required (the callers this rule allows)`);
  } else {
    const list = readList(raw['from'], `${at}.from`, problems, 'the callers this rule allows');
    list?.forEach((e, j) => {
      const entry = readCaller(e, `${at}.from[${j}]`, problems);
      if (entry !== undefined) from.push(entry);
    });
  }

  let to: RequestEntry[] | undefined;
  if (Object.hasOwn(raw, 'to')) {
    to = [];
    const list = readList(raw['to'], `${at}.to`, problems, 'omit "to" to allow any request');
    list?.forEach((e, j) => {
      const entry = readRequest(e, `${at}.to[${j}]`, problems);
      if (entry !== undefined) to!.push(entry);
    });
  }

  if (name === undefined) return undefined;
  return to === undefined ? { name, from } : { name, from, to };
}

function readCaller(raw: unknown, at: string, problems: Problems): CallerEntry | undefined {
  if (!isObject(raw)) {
    const hint = typeof raw === 'string' && raw.startsWith('spiffe://') ? ` (write "- id: ${raw}")` : '';
    problems.push(`${at}: expected an object with one of ${FROM_KEYS.join(', ')}, got ${typeName(raw)}${hint}`);
    return undefined;
  }
  checkKeys(raw, FROM_KEYS, at, problems);
  const given = FROM_KEYS.filter((k) => Object.hasOwn(raw, k));
  if (given.length !== 1) {
    problems.push(
      given.length === 0
        ? `${at}: needs one of ${FROM_KEYS.join(', ')}`
        : `${at}: give exactly one of ${FROM_KEYS.join(', ')} per entry (got ${given.join(', ')})`,
    );
    return undefined;
  }
  const key = given[0]!;
  const value = raw[key];
  const where = `${at}.${key}`;
  if (typeof value !== 'string') {
    problems.push(`${where}: expected a string, got ${typeName(value)}`);
    return undefined;
  }
  switch (key) {
    case 'id':
      return readExactId(value, where, problems);
    case 'idPrefix':
      return readIdPrefix(value, where, problems);
    case 'trustDomain':
      return readTrustDomain(value, where, problems);
  }
}

function readExactId(value: string, where: string, problems: Problems): CallerEntry | undefined {
  if (value.includes('*')) {
    problems.push(`${where}: ${quoteUntrusted(value)} contains "*"; use idPrefix for "any ID below" patterns`);
    return undefined;
  }
  const id = parseId(value, where, 'SPIFFE ID', problems);
  if (id === undefined) return undefined;
  // An X509-SVID leaf always has a path (X509-SVID.md §2), so this could never match a peer.
  if (id.isRoot()) {
    problems.push(
      `${where}: ${quoteUntrusted(value)} is a trust domain's own ID, which no workload has; ` +
        `to allow every workload of the trust domain write "trustDomain: ${id.trustDomain.name}"`,
    );
    return undefined;
  }
  return { id: id.toString() };
}

function readIdPrefix(value: string, where: string, problems: Problems): CallerEntry | undefined {
  if (!value.endsWith('/*')) {
    problems.push(
      `${where}: ${quoteUntrusted(value)} must end with "/*" (e.g. "spiffe://example.org/ns/payments/*"); ` +
        'for a single ID use id',
    );
    return undefined;
  }
  const base = value.slice(0, -2);
  if (base.includes('*')) {
    problems.push(`${where}: ${quoteUntrusted(value)}: only one "*", as the last path segment, is supported`);
    return undefined;
  }
  const id = parseId(base, where, 'SPIFFE ID prefix', problems, value);
  return id === undefined ? undefined : { idPrefix: id.toString() + '/*' };
}

function readTrustDomain(value: string, where: string, problems: Problems): CallerEntry | undefined {
  // TrustDomain.parse would take 'spiffe://td/ns/x' and return 'td': a
  // path written here by mistake would silently widen the rule to the whole
  // trust domain, so only bare names are accepted.
  if (value.includes('/') || value.includes(':')) {
    problems.push(
      `${where}: ${quoteUntrusted(value)}: give the bare trust domain name (e.g. "partner.org"); ` +
        'for IDs use id or idPrefix',
    );
    return undefined;
  }
  try {
    return { trustDomain: TrustDomain.parse(value).name };
  } catch (err) {
    problems.push(`${where}: invalid trust domain ${quoteUntrusted(value)}: ${spiffeReason(err)}`);
    return undefined;
  }
}

function parseId(
  value: string,
  where: string,
  what: string,
  problems: Problems,
  shown: string = value,
): SpiffeId | undefined {
  try {
    return SpiffeId.parse(value);
  } catch (err) {
    problems.push(`${where}: invalid ${what} ${quoteUntrusted(shown)}: ${spiffeReason(err)}`);
    return undefined;
  }
}

/** The rule a SpiffeIdError reports, without its module prefix and its copy of the input. */
function spiffeReason(err: unknown): string {
  if (!(err instanceof SpiffeIdError)) return describeError(err);
  let m = err.message;
  if (m.startsWith('spiffeid: ')) m = m.slice('spiffeid: '.length);
  const cut = m.lastIndexOf(' (in "');
  return cut > 0 ? m.slice(0, cut) : m;
}

function readRequest(raw: unknown, at: string, problems: Problems): RequestEntry | undefined {
  if (!isObject(raw)) {
    problems.push(`${at}: expected an object with paths, pathPrefixes and/or methods, got ${typeName(raw)}`);
    return undefined;
  }
  checkKeys(raw, TO_KEYS, at, problems);
  const given = TO_KEYS.filter((k) => Object.hasOwn(raw, k));
  if (given.length === 0) {
    problems.push(`${at}: needs paths, pathPrefixes or methods; omit "to" to allow any request`);
    return undefined;
  }
  const entry: { paths?: string[]; pathPrefixes?: string[]; methods?: string[] } = {};
  if (Object.hasOwn(raw, 'paths')) {
    entry.paths = readStrings(raw['paths'], `${at}.paths`, problems, (p) => {
      if (p === '/') {
        return 'would match every path (entries ending in "/" are prefixes); omit paths to allow any path';
      }
      return pathProblem(p);
    });
  }
  if (Object.hasOwn(raw, 'pathPrefixes')) {
    entry.pathPrefixes = readStrings(raw['pathPrefixes'], `${at}.pathPrefixes`, problems, pathProblem);
  }
  if (Object.hasOwn(raw, 'methods')) {
    entry.methods = readStrings(raw['methods'], `${at}.methods`, problems, methodProblem);
  }
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

/** Reads a non-empty list of strings, recording a problem per bad item; returns the good ones. */
function readStrings(
  raw: unknown,
  at: string,
  problems: Problems,
  check: (s: string) => string | undefined,
): string[] {
  const list = readList(raw, at, problems, 'omit the key instead');
  const out: string[] = [];
  list?.forEach((v, i) => {
    if (typeof v !== 'string') {
      problems.push(`${at}[${i}]: expected a string, got ${typeName(v)}`);
      return;
    }
    const problem = check(v);
    if (problem !== undefined) problems.push(`${at}[${i}]: ${quoteUntrusted(v)}: ${problem}`);
    else out.push(v);
  });
  return out;
}

function readList(raw: unknown, at: string, problems: Problems, emptyHint: string): unknown[] | undefined {
  if (!Array.isArray(raw)) {
    problems.push(`${at}: expected a list, got ${typeName(raw)}`);
    return undefined;
  }
  if (raw.length === 0) {
    problems.push(`${at}: empty list (${emptyHint})`);
    return undefined;
  }
  return raw;
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], at: string, problems: Problems): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const shown = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : quoteUntrusted(key);
    const where = at === '' ? shown : `${at}.${shown}`;
    const guess = suggestKey(key, allowed);
    const hint = guess === undefined ? '' : `; did you mean "${guess}"?`;
    problems.push(`${where}: unknown key (expected ${allowed.join(', ')})${hint}`);
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

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${describeValue(v)}`;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return quoteUntrusted(v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || v === undefined) return String(v);
  return typeName(v);
}
