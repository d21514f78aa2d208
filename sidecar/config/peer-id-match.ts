import { matchId, matchMemberOf, matchOneOf, type IdMatcher, type SpiffeId } from '../spiffe/index.ts';
import type { PeerIdMatch } from './config.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { spiffeId, trustDomain } from './field-parsers.ts';

/** The three keys that say which server identity an outbound destination must present. */
export const SERVER_MATCH_KEYS = ['serverId', 'serverIds', 'serverTrustDomain'] as const;

/**
 * Reads exactly one of serverId / serverIds / serverTrustDomain from `m`.
 *
 * Requiring one explicitly (no default) is deliberate: an outbound route
 * without an expected server identity would accept any certificate our
 * bundle verifies, letting any workload in the mesh impersonate the
 * destination (SPIFFE X509-SVID §5: authorization is the caller's job).
 */
export function readPeerIdMatch(r: ConfigReader, m: Mapping, path: string): PeerIdMatch {
  const present = SERVER_MATCH_KEYS.filter((k) => r.has(m, k));
  const placeholder: PeerIdMatch = { kind: 'oneOf', ids: [] };
  if (present.length === 0) {
    r.problem(path, 'needs exactly one of serverId, serverIds or serverTrustDomain (the identity the server must present)');
    return placeholder;
  }
  if (present.length > 1) {
    r.problem(path, `set only one of serverId, serverIds or serverTrustDomain, not ${present.join(' and ')}`);
    return placeholder;
  }
  switch (present[0]!) {
    case 'serverId': {
      const id = r.read(m, 'serverId', path, spiffeId, undefined);
      return id === undefined ? placeholder : { kind: 'id', id };
    }
    case 'serverTrustDomain': {
      const td = r.read(m, 'serverTrustDomain', path, trustDomain, undefined);
      return td === undefined ? placeholder : { kind: 'memberOf', trustDomain: td };
    }
    case 'serverIds': {
      const listPath = childPath(path, 'serverIds');
      const raw = r.list(m, 'serverIds', path) ?? [];
      if (raw.length === 0) {
        if (Array.isArray(m['serverIds'])) r.problem(listPath, 'must list at least one SPIFFE ID');
        return placeholder;
      }
      const ids: SpiffeId[] = [];
      const seen = new Set<string>();
      raw.forEach((item, i) => {
        const parsed = spiffeId(item);
        if (!parsed.ok) return r.problem(itemPath(listPath, i), parsed.message);
        const s = parsed.value.toString();
        if (seen.has(s)) return r.problem(itemPath(listPath, i), `${s} is listed twice`);
        seen.add(s);
        ids.push(parsed.value);
      });
      return { kind: 'oneOf', ids };
    }
  }
}

/** Builds the matcher the TLS client authorizer uses for a configured PeerIdMatch. */
export function peerIdMatcher(match: PeerIdMatch): IdMatcher {
  switch (match.kind) {
    case 'id':
      return matchId(match.id);
    case 'oneOf':
      return matchOneOf(...match.ids);
    case 'memberOf':
      return matchMemberOf(match.trustDomain);
  }
}
