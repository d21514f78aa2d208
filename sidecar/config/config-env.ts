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
  ENV_EGRESS_ALLOW,
  ENV_ENDPOINT_SOCKET,
  ENV_INBOUND_LISTEN,
  ENV_INBOUND_TRANSPARENT,
  ENV_LOG_LEVEL,
  ENV_MESH_CIDRS,
  ENV_OPAQUE_PORTS,
  ENV_OUTBOUND_LISTEN,
  ENV_POLICY_FILE,
  ENV_PREFIX,
  ENV_SVID_HINT,
  ENV_TRANSPARENT,
} from '../core/index.ts';
