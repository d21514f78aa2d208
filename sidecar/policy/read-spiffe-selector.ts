import { typeName, type DocumentReader } from './document-reader.ts';
import { PEER_ID_KEYS, parsePeerIdPattern, type PeerIdKey, type PeerIdPattern } from './peer-id-pattern.ts';

/** The `from` keys that name SPIFFE IDs: the peer-ID grammar's keys. */
export const SPIFFE_KEYS = PEER_ID_KEYS;

/** One of {@link SPIFFE_KEYS}. */
export type SpiffeKey = PeerIdKey;

/**
 * Validates the value of a SPIFFE key (`id`, `idPrefix` or `trustDomain`)
 * at `where` with the peer-ID grammar; returns the pattern in canonical
 * form, or undefined after recording the problem.
 */
export function readSpiffeSelector(key: SpiffeKey, value: unknown, where: string, r: DocumentReader): PeerIdPattern | undefined {
  if (typeof value !== 'string') {
    r.add(`${where}: expected a string, got ${typeName(value)}`);
    return undefined;
  }
  const parsed = parsePeerIdPattern(key, value);
  if (parsed.ok) return parsed.pattern;
  r.add(`${where}: ${parsed.problem}`);
  return undefined;
}
