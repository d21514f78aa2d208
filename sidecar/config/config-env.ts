/**
 * Environment variables the configuration reads. The names are defined once
 * in sidecar/core/env-names.ts, which the injector also imports to write them
 * into the pods it patches; this file re-exports them for the config
 * sections. Each project variable has the `SPIFFE_SIDECAR_` prefix and beats
 * the file; `SPIFFE_ENDPOINT_SOCKET` is the SPIFFE standard name and, as
 * SPIFFE_Workload_Endpoint.md §4 requires, only fills in when the file does
 * not set `spiffe.endpointSocket`. A new variable goes into core/env-names.ts
 * (and CONFIG_ENV_VARS there), then into the list below.
 */
export {
  CONFIG_ENV_VARS,
  ENV_ACCESS_LOG,
  ENV_ADMIN_LISTEN,
  ENV_APP_ADDRESS,
  ENV_APP_PROBES,
  ENV_APP_PROTOCOL,
  ENV_DRAIN_TIMEOUT,
  ENV_ENDPOINT_SOCKET,
  ENV_INBOUND_LISTEN,
  ENV_LOG_LEVEL,
  ENV_OUTBOUND_LISTEN,
  ENV_POLICY_FILE,
  ENV_PREFIX,
  ENV_SVID_HINT,
  ENV_TRANSPARENT,
} from '../core/index.ts';

// Added for transparent classification (docs/decisions/014-outbound-classification.md);
// still to be moved into core/env-names.ts and its CONFIG_ENV_VARS.

/** Overrides `inbound.transparent` (`true`/`false`/`1`/`0`); setting it enables the inbound proxy. */
export const ENV_INBOUND_TRANSPARENT = 'SPIFFE_SIDECAR_INBOUND_TRANSPARENT';
/** Overrides `outbound.transparent.meshCidrs` with a comma-separated list of CIDRs. */
export const ENV_MESH_CIDRS = 'SPIFFE_SIDECAR_MESH_CIDRS';
/** Overrides `outbound.transparent.opaquePorts` with a comma-separated list of ports, or `none`. */
export const ENV_OPAQUE_PORTS = 'SPIFFE_SIDECAR_OPAQUE_PORTS';
/** Overrides `outbound.egress.allow` with a JSON array of the same entries. */
export const ENV_EGRESS_ALLOW = 'SPIFFE_SIDECAR_EGRESS_ALLOW';
