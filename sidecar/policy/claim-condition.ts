import { quoteUntrusted } from '../spiffe/index.ts';
import { ClaimPath } from './claim-path.ts';
import { isObject, typeName, type DocumentReader } from './document-reader.ts';
import type { PolicyPrincipal } from './policy-request.ts';

/** A value a claim condition compares with: JSON scalars, compared by type and value (42 is not "42"). */
export type ClaimScalar = string | number | boolean;

/** One `claims` condition of a `from` entry, in document form (claim path in canonical spelling). */
export type ClaimCondition =
  | { readonly claim: string; readonly equals: ClaimScalar }
  | { readonly claim: string; readonly anyOf: readonly ClaimScalar[] }
  | { readonly claim: string; readonly contains: ClaimScalar };

const KEYS = ['claim', 'equals', 'anyOf', 'contains'] as const;
const OPERATORS = ['equals', 'anyOf', 'contains'] as const;

/**
 * The claim `scope` is read from the principal's scopes (the space-separated
 * `scope` claim as a list, RFC 9068 §2.2.3), so it only takes `contains`.
 */
const SCOPE = 'scope';

const EQUALS = 0;
const ANY_OF = 1;
const CONTAINS = 2;

/**
 * One compiled claim condition. `equals`: the claim is that scalar.
 * `anyOf`: the claim is one of those scalars. `contains`: the claim is a
 * list with that scalar in it. A missing claim, or one of another type
 * (a list where a scalar is expected, a number where a string is), never
 * matches.
 */
export class ClaimMatcher {
  readonly #path: ClaimPath;
  readonly #scope: boolean;
  readonly #op: number;
  readonly #values: readonly ClaimScalar[];

  constructor(c: ClaimCondition) {
    const parsed = ClaimPath.parse(c.claim);
    if (!parsed.ok) throw new TypeError(`policy: claim path ${quoteUntrusted(c.claim)} was not validated`);
    this.#path = parsed.path;
    this.#scope = parsed.path.text === SCOPE;
    if ('equals' in c) {
      this.#op = EQUALS;
      this.#values = [c.equals];
    } else if ('anyOf' in c) {
      this.#op = ANY_OF;
      this.#values = c.anyOf;
    } else {
      this.#op = CONTAINS;
      this.#values = [c.contains];
    }
  }

  /** True when the principal's claim satisfies the condition. Allocates nothing. */
  matches(p: PolicyPrincipal): boolean {
    const v: unknown = this.#scope ? p.scopes : this.#path.read(p.claims);
    if (this.#op === CONTAINS) return Array.isArray(v) && v.includes(this.#values[0]);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return false;
    return this.#values.includes(v);
  }
}

/** Validates one `claims` condition; returns it in canonical form, or undefined after recording problems. */
export function readClaimCondition(raw: unknown, at: string, r: DocumentReader): ClaimCondition | undefined {
  if (!isObject(raw)) {
    r.add(`${at}: expected an object with "claim" and one of ${OPERATORS.join(', ')}, got ${typeName(raw)}`);
    return undefined;
  }
  r.keys(raw, at, KEYS, KEYS);
  const ops = OPERATORS.filter((k) => Object.hasOwn(raw, k));
  let claim: string | undefined;
  if (!Object.hasOwn(raw, 'claim')) r.add(`${at}.claim: required (the claim to look at, e.g. "org.id")`);
  else if (typeof raw['claim'] !== 'string') r.add(`${at}.claim: expected a string, got ${typeName(raw['claim'])}`);
  else {
    const p = ClaimPath.parse(raw['claim']);
    if (p.ok) claim = p.path.text;
    else r.add(`${at}.claim: ${quoteUntrusted(raw['claim'])}: ${p.problem}`);
  }
  if (ops.length !== 1) {
    r.add(`${at}: give exactly one of ${OPERATORS.join(', ')}${ops.length > 1 ? ` (got ${ops.join(', ')})` : ''}`);
    return undefined;
  }
  const op = ops[0]!;
  const where = `${at}.${op}`;
  if (claim === SCOPE && op !== 'contains') {
    r.add(`${where}: "scope" is read as the list of the token's scopes; use "contains: <scope>"`);
    return undefined;
  }
  if (op === 'anyOf') {
    const list = r.list(raw['anyOf'], where, 'give the accepted values');
    if (list === undefined) return undefined;
    const values: ClaimScalar[] = [];
    list.forEach((v, i) => {
      if (isScalar(v, `${where}[${i}]`, r)) values.push(v as ClaimScalar);
    });
    return claim === undefined || values.length !== list.length ? undefined : { claim, anyOf: values };
  }
  const v = raw[op];
  if (!isScalar(v, where, r)) return undefined;
  if (claim === SCOPE && typeof v !== 'string') {
    r.add(`${where}: scopes are strings; got ${typeName(v)}`);
    return undefined;
  }
  if (claim === undefined) return undefined;
  return op === 'equals' ? { claim, equals: v as ClaimScalar } : { claim, contains: v as ClaimScalar };
}

/** True when `v` is a usable scalar; records a problem otherwise. */
function isScalar(v: unknown, at: string, r: DocumentReader): boolean {
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number' && Number.isFinite(v)) return true;
  r.add(`${at}: expected a string, number or boolean, got ${typeName(v)}`);
  return false;
}
