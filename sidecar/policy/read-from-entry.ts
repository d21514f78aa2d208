import { readClaimCondition, type ClaimCondition } from './claim-condition.ts';
import { isObject, typeName, type DocumentReader } from './document-reader.ts';
import type { FromEntry } from './from-entry-matcher.ts';
import { parseIpBlock } from './ip-block-set.ts';
import { principalProblem } from './principal-matcher.ts';
import { SPIFFE_KEYS, readSpiffeSelector } from './read-spiffe-selector.ts';

const V2_KEYS = [...SPIFFE_KEYS, 'principals', 'clients', 'claims', 'ipBlocks', 'remoteIpBlocks'] as const;

/** `from` keys that look at the HTTP request, refused in a policy for TCP connections. */
const REQUEST_LEVEL: readonly { readonly key: string; readonly why: string }[] = [
  { key: 'principals', why: 'end-user token' },
  { key: 'clients', why: 'end-user token' },
  { key: 'claims', why: 'end-user token' },
  { key: 'remoteIpBlocks', why: 'forwarding headers' },
];

/** Options of {@link readFromEntry}. */
export interface FromEntryOptions {
  /** True when the document has a top-level `remoteAddress` (needed by `remoteIpBlocks`). */
  readonly hasRemoteAddress: boolean;
}

/** Validates one `from` entry; returns it in canonical form, or undefined after recording its problems. */
export function readFromEntry(raw: unknown, at: string, r: DocumentReader, o: FromEntryOptions): FromEntry | undefined {
  if (!isObject(raw)) {
    const hint = typeof raw === 'string' && raw.startsWith('spiffe://') ? ` (write "- id: ${raw}")` : '';
    const expected = r.version === 1 ? `one of ${SPIFFE_KEYS.join(', ')}` : `one or more of ${V2_KEYS.join(', ')}`;
    r.add(`${at}: expected an object with ${expected}, got ${typeName(raw)}${hint}`);
    return undefined;
  }
  r.keys(raw, at, SPIFFE_KEYS, V2_KEYS);
  const spiffe = SPIFFE_KEYS.filter((k) => Object.hasOwn(raw, k));
  if (r.version === 1) {
    // An entry with only version 2 keys was already reported as needing version 2.
    if (spiffe.length === 0 && V2_KEYS.some((k) => Object.hasOwn(raw, k))) return undefined;
    if (spiffe.length !== 1) {
      r.add(
        spiffe.length === 0
          ? `${at}: needs one of ${SPIFFE_KEYS.join(', ')}`
          : `${at}: give exactly one of ${SPIFFE_KEYS.join(', ')} per entry (got ${spiffe.join(', ')})`,
      );
      return undefined;
    }
    return readSpiffeSelector(spiffe[0]!, raw[spiffe[0]!], `${at}.${spiffe[0]!}`, r);
  }
  const given = V2_KEYS.filter((k) => Object.hasOwn(raw, k));
  if (given.length === 0) {
    r.add(`${at}: needs one or more of ${V2_KEYS.join(', ')}`);
    return undefined;
  }
  if (spiffe.length > 1) {
    r.add(`${at}: give at most one of ${SPIFFE_KEYS.join(', ')} per entry (got ${spiffe.join(', ')})`);
    return undefined;
  }
  const before = r.problems.length;
  for (const { key, why } of REQUEST_LEVEL) r.refuseForTcp(raw, key, at, why);
  const entry: { -readonly [K in keyof FromEntry]: FromEntry[K] } = {};
  if (spiffe.length === 1) Object.assign(entry, readSpiffeSelector(spiffe[0]!, raw[spiffe[0]!], `${at}.${spiffe[0]!}`, r));
  if (Object.hasOwn(raw, 'principals')) entry.principals = r.strings(raw['principals'], `${at}.principals`, principalProblem);
  if (Object.hasOwn(raw, 'clients')) entry.clients = r.strings(raw['clients'], `${at}.clients`, clientProblem);
  if (Object.hasOwn(raw, 'claims')) entry.claims = readClaims(raw['claims'], `${at}.claims`, r);
  if (Object.hasOwn(raw, 'ipBlocks')) entry.ipBlocks = r.strings(raw['ipBlocks'], `${at}.ipBlocks`, ipBlock);
  if (Object.hasOwn(raw, 'remoteIpBlocks')) {
    if (!o.hasRemoteAddress && r.context === 'http') {
      r.add(`${at}.remoteIpBlocks: needs the top-level "remoteAddress" setting (which callers' forwarding headers to believe, and how many hops)`);
    }
    entry.remoteIpBlocks = r.strings(raw['remoteIpBlocks'], `${at}.remoteIpBlocks`, ipBlock);
  }
  return r.problems.length === before ? entry : undefined;
}

function readClaims(raw: unknown, at: string, r: DocumentReader): ClaimCondition[] {
  const out: ClaimCondition[] = [];
  r.list(raw, at, 'omit the key instead')?.forEach((c, i) => {
    const cond = readClaimCondition(c, `${at}[${i}]`, r);
    if (cond !== undefined) out.push(cond);
  });
  return out;
}

function clientProblem(c: string): string | undefined {
  if (c === '') return 'empty client ID';
  if (c.includes('*')) return 'wildcards are not supported; list each client ID';
  if (/[\u0000-\u001f\u007f]/.test(c)) return 'control characters are not allowed';
  return undefined;
}

function ipBlock(s: string): string | { readonly value: string } {
  const p = parseIpBlock(s);
  return p.ok ? { value: p.canonical } : p.problem;
}
