import { describeError } from '../core/index.ts';
import { SpiffeId, SpiffeIdError, TrustDomain, quoteUntrusted } from '../spiffe/index.ts';
import type { CallerEntry } from './caller-matcher.ts';
import { typeName, type DocumentReader } from './document-reader.ts';

/** The `from` keys that name SPIFFE IDs. */
export const SPIFFE_KEYS = ['id', 'idPrefix', 'trustDomain'] as const;

/** One of {@link SPIFFE_KEYS}. */
export type SpiffeKey = (typeof SPIFFE_KEYS)[number];

/**
 * Validates the value of a SPIFFE key (`id`, `idPrefix` or `trustDomain`)
 * at `where`; returns the entry in canonical form, or undefined after
 * recording the problem.
 */
export function readSpiffeSelector(key: SpiffeKey, value: unknown, where: string, r: DocumentReader): CallerEntry | undefined {
  if (typeof value !== 'string') {
    r.add(`${where}: expected a string, got ${typeName(value)}`);
    return undefined;
  }
  switch (key) {
    case 'id':
      return readExactId(value, where, r);
    case 'idPrefix':
      return readIdPrefix(value, where, r);
    case 'trustDomain':
      return readTrustDomain(value, where, r);
  }
}

function readExactId(value: string, where: string, r: DocumentReader): CallerEntry | undefined {
  if (value.includes('*')) {
    r.add(`${where}: ${quoteUntrusted(value)} contains "*"; use idPrefix for "any ID below" patterns`);
    return undefined;
  }
  const id = parseId(value, where, 'SPIFFE ID', r);
  if (id === undefined) return undefined;
  // An X509-SVID leaf always has a path (SPIFFE X509-SVID standard §2), so this could never match a peer.
  if (id.isRoot()) {
    r.add(
      `${where}: ${quoteUntrusted(value)} is a trust domain's own ID, which no workload has; ` +
        `to allow every workload of the trust domain write "trustDomain: ${id.trustDomain.name}"`,
    );
    return undefined;
  }
  return { id: id.toString() };
}

function readIdPrefix(value: string, where: string, r: DocumentReader): CallerEntry | undefined {
  if (!value.endsWith('/*')) {
    r.add(
      `${where}: ${quoteUntrusted(value)} must end with "/*" (e.g. "spiffe://example.org/ns/payments/*"); ` +
        'for a single ID use id',
    );
    return undefined;
  }
  const base = value.slice(0, -2);
  if (base.includes('*')) {
    r.add(`${where}: ${quoteUntrusted(value)}: only one "*", as the last path segment, is supported`);
    return undefined;
  }
  const id = parseId(base, where, 'SPIFFE ID prefix', r, value);
  return id === undefined ? undefined : { idPrefix: id.toString() + '/*' };
}

function readTrustDomain(value: string, where: string, r: DocumentReader): CallerEntry | undefined {
  // TrustDomain.parse would take 'spiffe://td/ns/x' and return 'td': a
  // path written here by mistake would silently widen the rule to the whole
  // trust domain, so only bare names are accepted.
  if (value.includes('/') || value.includes(':')) {
    r.add(
      `${where}: ${quoteUntrusted(value)}: give the bare trust domain name (e.g. "partner.org"); ` +
        'for IDs use id or idPrefix',
    );
    return undefined;
  }
  try {
    return { trustDomain: TrustDomain.parse(value).name };
  } catch (err) {
    r.add(`${where}: invalid trust domain ${quoteUntrusted(value)}: ${spiffeReason(err)}`);
    return undefined;
  }
}

function parseId(value: string, where: string, what: string, r: DocumentReader, shown: string = value): SpiffeId | undefined {
  try {
    return SpiffeId.parse(value);
  } catch (err) {
    r.add(`${where}: invalid ${what} ${quoteUntrusted(shown)}: ${spiffeReason(err)}`);
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
