import { SpiffeId, SpiffeIdError, TrustDomain } from '../spiffe/index.ts';
import { accept, quoted, reject, typeName, type Parsed } from './parsed.ts';

/**
 * Checkers for single configuration values. Each takes the raw YAML (or env)
 * value and returns Parsed; messages start with the quoted value when the
 * type was right but the value was not.
 */

/** Any string, including ''. */
export function anyString(raw: unknown): Parsed<string> {
  return typeof raw === 'string' ? accept(raw) : reject(`must be a string, got ${typeName(raw)}`);
}

/** A string with at least one non-space character. */
export function nonEmptyString(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be a string, got ${typeName(raw)}`);
  return raw.trim() === '' ? reject('must not be empty') : accept(raw);
}

/** A YAML boolean; strings are refused so `"false"` cannot be mistaken for true. */
export function yamlBoolean(raw: unknown): Parsed<boolean> {
  return typeof raw === 'boolean' ? accept(raw) : reject(`must be true or false, got ${typeName(raw)}`);
}

/** An env-var boolean: true/false/1/0, any case. */
export function envBoolean(raw: unknown): Parsed<boolean> {
  const s = String(raw).trim().toLowerCase();
  if (s === 'true' || s === '1') return accept(true);
  if (s === 'false' || s === '0') return accept(false);
  return reject(`${quoted(raw)}: must be true, false, 1 or 0`);
}

/** Builds a checker for an integer in [min, max]. */
export function integerIn(min: number, max: number): (raw: unknown) => Parsed<number> {
  return (raw) => {
    if (typeof raw !== 'number') return reject(`must be an integer ${min}-${max}, got ${typeName(raw)}`);
    if (!Number.isInteger(raw) || raw < min || raw > max) return reject(`${quoted(raw)}: must be an integer ${min}-${max}`);
    return accept(raw);
  };
}

/** Builds a checker for one of a fixed set of strings (case-sensitive). */
export function oneOf<T extends string>(values: readonly T[]): (raw: unknown) => Parsed<T> {
  const list = values.join(' | ');
  return (raw) => {
    if (typeof raw !== 'string') return reject(`must be one of ${list}, got ${typeName(raw)}`);
    return (values as readonly string[]).includes(raw) ? accept(raw as T) : reject(`${quoted(raw)}: must be one of ${list}`);
  };
}

function spiffeMessage(err: unknown): string {
  // The spiffe error message already quotes the input; drop its module prefix.
  if (err instanceof SpiffeIdError) return err.message.replace(/^spiffeid: /, '');
  throw err;
}

/** A SPIFFE ID (SPIFFE-ID.md §2). */
export function spiffeId(raw: unknown): Parsed<SpiffeId> {
  if (typeof raw !== 'string') return reject(`must be a SPIFFE ID string, got ${typeName(raw)}`);
  try {
    return accept(SpiffeId.parse(raw));
  } catch (err) {
    return reject(spiffeMessage(err));
  }
}

/** A trust domain name (`example.org`), or a SPIFFE ID whose trust domain is taken. */
export function trustDomain(raw: unknown): Parsed<TrustDomain> {
  if (typeof raw !== 'string') return reject(`must be a trust domain name, got ${typeName(raw)}`);
  try {
    return accept(TrustDomain.parse(raw));
  } catch (err) {
    return reject(spiffeMessage(err));
  }
}

/**
 * A Workload API address. Only the scheme is checked here; the workload
 * client validates the whole URI (Workload Endpoint spec §4) when it dials.
 */
export function endpointSocket(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be a unix:// or tcp:// URI, got ${typeName(raw)}`);
  if (!/^(unix|tcp):./i.test(raw.trim())) return reject(`${quoted(raw)}: must be a unix:///path/to/socket or tcp://IP:port URI`);
  return accept(raw.trim());
}

/**
 * An HTTP header name, lowercased (field names are case-insensitive, RFC
 * 9110 §5.1). Which names may carry identity is the headers module's rule,
 * checked by settingsSections through IdentityHeaders.
 */
export function headerName(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be a header name, got ${typeName(raw)}`);
  return accept(raw.toLowerCase());
}
