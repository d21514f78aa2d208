import { PEER_ID_KEYS, PeerIdMatcher, isPeerIdKey, parsePeerIdPattern, type PeerIdKey, type PeerIdPattern } from '../policy/index.ts';
import { SpiffeId, TrustDomain, type IdMatcher } from '../spiffe/index.ts';
import type { PeerIdMatch } from './config.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { accept, reject, typeName, type Parsed } from './parsed.ts';

/**
 * The keys that say which server identity an outbound destination must
 * present: `server`, written in the peer-ID grammar that policies use
 * (`server: { id: ... }`, `server: { trustDomain: ... }`, or a list of
 * `{ id }`), and the older spellings it replaces, still accepted:
 * `serverId` = `server: { id }`, `serverIds` = a list of `{ id }`,
 * `serverTrustDomain` = `server: { trustDomain }`.
 */
export const SERVER_MATCH_KEYS = ['server', 'serverId', 'serverIds', 'serverTrustDomain'] as const;

const PLACEHOLDER: PeerIdMatch = Object.freeze({ kind: 'oneOf', ids: Object.freeze([]) });

/**
 * Reads exactly one of the {@link SERVER_MATCH_KEYS} from `m`.
 *
 * Requiring one explicitly (no default) is deliberate: an outbound route
 * without an expected server identity would accept any certificate our
 * bundle verifies, letting any workload in the mesh impersonate the
 * destination (SPIFFE X509-SVID §5: authorization is the caller's job).
 */
export function readPeerIdMatch(r: ConfigReader, m: Mapping, path: string): PeerIdMatch {
  const present = SERVER_MATCH_KEYS.filter((k) => r.has(m, k));
  if (present.length === 0) {
    r.problem(
      path,
      'needs exactly one of serverId, serverIds or serverTrustDomain, or server ' +
        '(the identity the server must present, e.g. "server: { id: spiffe://example.org/backend }")',
    );
    return PLACEHOLDER;
  }
  if (present.length > 1) {
    r.problem(path, `set only one of server, serverId, serverIds or serverTrustDomain, not ${present.join(' and ')}`);
    return PLACEHOLDER;
  }
  switch (present[0]!) {
    case 'server':
      return readServer(r, m['server'], childPath(path, 'server'));
    case 'serverId':
      return r.read(m, 'serverId', path, (v) => grammarValue('id', v, 'must be a SPIFFE ID string'), PLACEHOLDER);
    case 'serverTrustDomain':
      return r.read(m, 'serverTrustDomain', path, (v) => grammarValue('trustDomain', v, 'must be a trust domain name'), PLACEHOLDER);
    case 'serverIds': {
      const list = r.list(m, 'serverIds', path);
      // Not a list: r.list has reported it.
      return Array.isArray(m['serverIds']) ? readIdList(r, list, childPath(path, 'serverIds'), (item) => item) : PLACEHOLDER;
    }
  }
}

/** `server:` in the grammar's spelling: one mapping, or a list of `{ id }` mappings. */
function readServer(r: ConfigReader, raw: unknown, at: string): PeerIdMatch {
  if (Array.isArray(raw)) {
    return readIdList(r, raw, at, (item, i) => {
      const e = r.mapping(item, itemPath(at, i), PEER_ID_KEYS);
      if (e === undefined) return undefined;
      const keys = Object.keys(e).filter(isPeerIdKey);
      if (keys.length === 1 && keys[0] === 'id') return e['id'];
      r.problem(itemPath(at, i), 'each entry of a server list is one { id: ... } (for a whole trust domain write "server: { trustDomain: ... }" instead of a list)');
      return undefined;
    });
  }
  if (raw === null || typeof raw !== 'object') {
    r.problem(at, `must be a mapping with id or trustDomain, or a list of { id } mappings, got ${typeName(raw)}`);
    return PLACEHOLDER;
  }
  const e = r.mapping(raw, at, PEER_ID_KEYS);
  if (e === undefined) return PLACEHOLDER;
  const keys = Object.keys(e).filter(isPeerIdKey);
  if (keys.length !== 1) {
    r.problem(at, keys.length === 0 ? 'needs id or trustDomain' : `give exactly one of id or trustDomain (got ${keys.join(', ')})`);
    return PLACEHOLDER;
  }
  const key = keys[0]!;
  if (key === 'idPrefix') {
    // PeerIdMatch (config.ts) has no prefix form yet: refuse rather than widen or narrow silently.
    r.problem(childPath(at, key), 'is not accepted for a server: name the server (id), several (a list of { id }), or its trustDomain');
    return PLACEHOLDER;
  }
  const parsed = grammarValue(key, e[key], key === 'id' ? 'must be a SPIFFE ID string' : 'must be a trust domain name');
  if (!parsed.ok) r.problem(childPath(at, key), parsed.message);
  return parsed.ok ? parsed.value : PLACEHOLDER;
}

/**
 * A list of SPIFFE IDs (`serverIds`, or a `server:` list, whose items
 * `idOf` unwraps): at least one, no duplicates, each valid in the grammar.
 */
function readIdList(
  r: ConfigReader,
  raw: readonly unknown[] | undefined,
  at: string,
  idOf: (item: unknown, i: number) => unknown,
): PeerIdMatch {
  if (raw === undefined) return PLACEHOLDER;
  if (raw.length === 0) {
    r.problem(at, 'must list at least one SPIFFE ID');
    return PLACEHOLDER;
  }
  const ids: SpiffeId[] = [];
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    const value = idOf(item, i);
    if (value === undefined) return;
    const where = item === value ? itemPath(at, i) : childPath(itemPath(at, i), 'id');
    const parsed = grammarValue('id', value, 'must be a SPIFFE ID string');
    if (!parsed.ok) return r.problem(where, parsed.message);
    if (parsed.value.kind !== 'id') return;
    const s = parsed.value.id.toString();
    if (seen.has(s)) return r.problem(where, `${s} is listed twice`);
    seen.add(s);
    ids.push(parsed.value.id);
  });
  return { kind: 'oneOf', ids };
}

/** One grammar value as a PeerIdMatch; `typeHint` starts the message for a value that is not a string. */
function grammarValue(key: Exclude<PeerIdKey, 'idPrefix'>, raw: unknown, typeHint: string): Parsed<PeerIdMatch> {
  if (typeof raw !== 'string') return reject(`${typeHint}, got ${typeName(raw)}`);
  const parsed = parsePeerIdPattern(key, raw);
  if (!parsed.ok) return reject(parsed.problem);
  const p = parsed.pattern;
  if ('id' in p) return accept({ kind: 'id', id: SpiffeId.parse(p.id) });
  if ('trustDomain' in p) return accept({ kind: 'memberOf', trustDomain: TrustDomain.parse(p.trustDomain) });
  return reject('an ID prefix is not accepted here');
}

/** The configured match as grammar patterns (canonical strings). */
export function peerIdPatterns(match: PeerIdMatch): PeerIdPattern[] {
  switch (match.kind) {
    case 'id':
      return [{ id: match.id.toString() }];
    case 'oneOf':
      return match.ids.map((id) => ({ id: id.toString() }));
    case 'memberOf':
      return [{ trustDomain: match.trustDomain.name }];
  }
}

/** Builds the matcher the TLS client authorizer uses for a configured PeerIdMatch (the grammar's matcher). */
export function peerIdMatcher(match: PeerIdMatch): IdMatcher {
  return new PeerIdMatcher(peerIdPatterns(match));
}
