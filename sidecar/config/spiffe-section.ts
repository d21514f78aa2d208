import type { SpiffeSettings } from './config.ts';
import type { ConfigReader, Mapping } from './config-reader.ts';
import { ENV_ENDPOINT_SOCKET, ENV_SVID_HINT } from '../core/index.ts';
import { anyString, endpointSocket, trustDomain } from './field-parsers.ts';

const KEYS = ['endpointSocket', 'svidHint', 'trustDomain'] as const;

/** Reads `spiffe:` (Workload API address, SVID hint, trust domain) with its env fallbacks. */
export function spiffeSection(r: ConfigReader, root: Mapping | undefined): SpiffeSettings {
  const m = r.section(root, 'spiffe', '', KEYS);
  let socket = r.read(m, 'endpointSocket', 'spiffe', endpointSocket, undefined);
  // Workload Endpoint spec §4: an explicitly configured address wins; the
  // standard env var is only the fallback. (Project variables, by contrast,
  // override the file.)
  if (socket === undefined && !r.has(m, 'endpointSocket')) {
    socket = r.override<string | undefined>(undefined, ENV_ENDPOINT_SOCKET, endpointSocket);
    if (socket === undefined && r.env(ENV_ENDPOINT_SOCKET) === undefined) {
      r.problem('spiffe.endpointSocket', `is required: set it here or in the ${ENV_ENDPOINT_SOCKET} environment variable`);
    }
  }
  const svidHint = r.override(r.read(m, 'svidHint', 'spiffe', anyString, ''), ENV_SVID_HINT, anyString);
  const td = r.read(m, 'trustDomain', 'spiffe', trustDomain, null);
  return { endpointSocket: socket ?? '', svidHint, trustDomain: td };
}
