import { formatAddress, type Address } from '../core/index.ts';
import type { Config } from './config.ts';

/**
 * Keys whose values must never leave the process through /debug/config.
 * Nothing in Config is secret today; a future field holding a secret (a
 * token file's contents, an upstream password) is added here.
 */
const SECRET_KEYS: ReadonlySet<string> = new Set<string>([]);

function isAddress(v: object): v is Address {
  const keys = Object.keys(v);
  return keys.length === 2 && typeof (v as Address).host === 'string' && typeof (v as Address).port === 'number';
}

function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plain);
  // SpiffeId and TrustDomain serialise as their string forms.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return (value as { toJSON(): unknown }).toJSON();
  if (isAddress(value)) return formatAddress(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k) ? '[redacted]' : plain(v);
  return out;
}

/**
 * Returns a JSON-ready copy of `config` for /debug/config: addresses as
 * `host:port`, IDs as strings, and any secret-bearing field replaced by
 * "[redacted]".
 */
export function redactedConfig(config: Config): Record<string, unknown> {
  return plain(config) as Record<string, unknown>;
}
