import { describeError } from '../core/index.ts';
import { SpiffeId, SpiffeIdError, TrustDomain, quoteUntrusted, type IdMatcher } from '../spiffe/index.ts';

/**
 * The peer-ID grammar: the one way the project writes "which SPIFFE IDs are
 * acceptable", shared by a policy's `from` entries and the config's
 * `server:` of outbound routes and tunnels. Three keys:
 *
 * - `id: spiffe://td/path`: exactly this ID;
 * - `idPrefix: spiffe://td/path/*`: any ID below this path (segment-wise);
 * - `trustDomain: td`: any ID of this trust domain.
 */
export const PEER_ID_KEYS = ['id', 'idPrefix', 'trustDomain'] as const;

/** One of {@link PEER_ID_KEYS}. */
export type PeerIdKey = (typeof PEER_ID_KEYS)[number];

/** One validated pattern in canonical form (IDs and trust domain names as their parsers print them). */
export type PeerIdPattern =
  | { readonly id: string }
  | { readonly idPrefix: string }
  | { readonly trustDomain: string };

/** The outcome of {@link parsePeerIdPattern}: the pattern, or the problem with the value (without its location). */
export type PeerIdParse = { readonly ok: true; readonly pattern: PeerIdPattern } | { readonly ok: false; readonly problem: string };

/** True when `key` is one of {@link PEER_ID_KEYS}. */
export function isPeerIdKey(key: string): key is PeerIdKey {
  return (PEER_ID_KEYS as readonly string[]).includes(key);
}

/**
 * Parses the string value of one grammar key. Type checks stay with the
 * caller, whose document says how a wrong type is reported.
 */
export function parsePeerIdPattern(key: PeerIdKey, value: string): PeerIdParse {
  switch (key) {
    case 'id':
      return parseExactId(value);
    case 'idPrefix':
      return parseIdPrefix(value);
    case 'trustDomain':
      return parseTrustDomain(value);
  }
}

function parseExactId(value: string): PeerIdParse {
  if (value.includes('*')) return refuse(`${quoteUntrusted(value)} contains "*"; use idPrefix for "any ID below" patterns`);
  const id = parseId(value, 'SPIFFE ID');
  if (typeof id === 'string') return refuse(id);
  // An X509-SVID leaf always has a path (SPIFFE X509-SVID standard §2), so a trust domain's own ID could never match a peer.
  if (id.isRoot()) {
    return refuse(
      `${quoteUntrusted(value)} is a trust domain's own ID, which no workload has; ` +
        `to allow every workload of the trust domain write "trustDomain: ${id.trustDomain.name}"`,
    );
  }
  return { ok: true, pattern: { id: id.toString() } };
}

function parseIdPrefix(value: string): PeerIdParse {
  if (!value.endsWith('/*')) {
    return refuse(`${quoteUntrusted(value)} must end with "/*" (e.g. "spiffe://example.org/ns/payments/*"); for a single ID use id`);
  }
  const base = value.slice(0, -2);
  if (base.includes('*')) return refuse(`${quoteUntrusted(value)}: only one "*", as the last path segment, is supported`);
  const id = parseId(base, 'SPIFFE ID prefix', value);
  return typeof id === 'string' ? refuse(id) : { ok: true, pattern: { idPrefix: id.toString() + '/*' } };
}

function parseTrustDomain(value: string): PeerIdParse {
  // TrustDomain.parse would take 'spiffe://td/ns/x' and return 'td': a path
  // written here by mistake would silently widen the match to the whole
  // trust domain, so only bare names are accepted.
  if (value.includes('/') || value.includes(':')) {
    return refuse(`${quoteUntrusted(value)}: give the bare trust domain name (e.g. "partner.org"); for IDs use id or idPrefix`);
  }
  try {
    return { ok: true, pattern: { trustDomain: TrustDomain.parse(value).name } };
  } catch (err) {
    return refuse(`invalid trust domain ${quoteUntrusted(value)}: ${spiffeReason(err)}`);
  }
}

function refuse(problem: string): PeerIdParse {
  return { ok: false, problem };
}

/** The parsed ID, or the problem as a string. */
function parseId(value: string, what: string, shown: string = value): SpiffeId | string {
  try {
    return SpiffeId.parse(value);
  } catch (err) {
    return `invalid ${what} ${quoteUntrusted(shown)}: ${spiffeReason(err)}`;
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

/** One pattern in words, for error bodies, logs and /debug: the ID, the prefix, or `any ID in trust domain td`. */
export function describePeerIdPattern(p: PeerIdPattern): string {
  if ('id' in p) return p.id;
  if ('idPrefix' in p) return p.idPrefix;
  return `any ID in trust domain ${p.trustDomain}`;
}

/**
 * Matches peers against a list of patterns: accepts a peer when any pattern
 * does (an empty list accepts nobody). Exact IDs and trust domains are set
 * lookups and ID prefixes `startsWith` calls, so matching allocates nothing.
 */
export class PeerIdMatcher implements IdMatcher {
  readonly #ids: ReadonlySet<string>;
  /** `idPrefix` patterns without their final '*', so each ends in '/'. */
  readonly #prefixes: readonly string[];
  readonly #trustDomains: ReadonlySet<string>;
  /** What is accepted, in words: one pattern's words, else `one of [a, b]`. */
  readonly description: string;

  constructor(patterns: readonly PeerIdPattern[]) {
    const ids = new Set<string>();
    const prefixes: string[] = [];
    const tds = new Set<string>();
    for (const p of patterns) {
      if ('id' in p) ids.add(p.id);
      // 'spiffe://td/ns/*' → 'spiffe://td/ns/': the kept '/' is what makes
      // the match stop at a segment boundary ('/nsX' and '/ns' itself fail).
      else if ('idPrefix' in p) prefixes.push(p.idPrefix.slice(0, -1));
      else tds.add(p.trustDomain);
    }
    this.#ids = ids;
    this.#prefixes = prefixes;
    this.#trustDomains = tds;
    const words = patterns.map(describePeerIdPattern);
    this.description = words.length === 1 ? words[0]! : `one of [${words.join(', ')}]`;
  }

  /** True when the peer is accepted by any pattern. */
  matches(id: SpiffeId): boolean {
    return this.matchesParts(id.toString(), id.trustDomain.name);
  }

  /** {@link matches} on the ID's string form and trust domain name, read once per request by the caller. */
  matchesParts(id: string, trustDomain: string): boolean {
    if (this.#ids.has(id) || this.#trustDomains.has(trustDomain)) return true;
    // SPIFFE IDs never end in '/', so a prefix match always has a segment after it.
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) if (id.startsWith(prefixes[i]!)) return true;
    return false;
  }
}
