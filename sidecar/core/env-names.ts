/**
 * The environment variables the sidecar reads, named once: the config
 * module reads them, the injector writes them into the pods it patches, and
 * the demo and the CLI strip them from the environments they pass on. Each
 * project variable has the `SPIFFE_SIDECAR_` prefix and beats the config
 * file; `SPIFFE_ENDPOINT_SOCKET` is the SPIFFE standard name and only fills
 * in when the file does not set `spiffe.endpointSocket`
 * (SPIFFE_Workload_Endpoint.md §4). What each one overrides is in
 * docs/config.md.
 */

/** The prefix every project variable shares. */
export const ENV_PREFIX = 'SPIFFE_SIDECAR_';
/** Workload API address fallback (SPIFFE_Workload_Endpoint.md §4). */
export const ENV_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';
/** Overrides `inbound.listen`; setting it enables the inbound proxy. */
export const ENV_INBOUND_LISTEN = 'SPIFFE_SIDECAR_INBOUND_LISTEN';
/** Overrides `inbound.app`; setting it enables the inbound proxy. */
export const ENV_APP_ADDRESS = 'SPIFFE_SIDECAR_APP_ADDRESS';
/** Overrides `inbound.appProtocol`; setting it enables the inbound proxy. */
export const ENV_APP_PROTOCOL = 'SPIFFE_SIDECAR_APP_PROTOCOL';
/** Overrides `outbound.listen`; setting it enables the outbound proxy. */
export const ENV_OUTBOUND_LISTEN = 'SPIFFE_SIDECAR_OUTBOUND_LISTEN';
/** Overrides `outbound.transparent.enabled` (`true`/`false`/`1`/`0`); true enables the outbound proxy. */
export const ENV_TRANSPARENT = 'SPIFFE_SIDECAR_TRANSPARENT';
/** Overrides `admin.listen`. */
export const ENV_ADMIN_LISTEN = 'SPIFFE_SIDECAR_ADMIN_LISTEN';
/**
 * Overrides `admin.appProbes` with a JSON array of the same entries; the
 * injector sets it to exactly the probes it rewrote (docs/kubernetes.md).
 */
export const ENV_APP_PROBES = 'SPIFFE_SIDECAR_APP_PROBES';
/** Overrides `inbound.policyFile`; setting it enables the inbound proxy. */
export const ENV_POLICY_FILE = 'SPIFFE_SIDECAR_POLICY_FILE';
/** Overrides `log.level`. */
export const ENV_LOG_LEVEL = 'SPIFFE_SIDECAR_LOG_LEVEL';
/** Overrides `log.accessLog` (`true`/`false`/`1`/`0`). */
export const ENV_ACCESS_LOG = 'SPIFFE_SIDECAR_ACCESS_LOG';
/** Overrides `spiffe.svidHint`. */
export const ENV_SVID_HINT = 'SPIFFE_SIDECAR_SVID_HINT';
/** Overrides `drain.timeout`. */
export const ENV_DRAIN_TIMEOUT = 'SPIFFE_SIDECAR_DRAIN_TIMEOUT';
/** Overrides `inbound.transparent` (`true`/`false`/`1`/`0`); setting it enables the inbound proxy. */
export const ENV_INBOUND_TRANSPARENT = 'SPIFFE_SIDECAR_INBOUND_TRANSPARENT';
/** Overrides `outbound.transparent.meshCidrs` with a comma-separated list of CIDRs. */
export const ENV_MESH_CIDRS = 'SPIFFE_SIDECAR_MESH_CIDRS';
/** Overrides `outbound.transparent.opaquePorts` with a comma-separated list of ports, or `none`. */
export const ENV_OPAQUE_PORTS = 'SPIFFE_SIDECAR_OPAQUE_PORTS';
/** Overrides `outbound.egress.allow` with a JSON array of the same entries. */
export const ENV_EGRESS_ALLOW = 'SPIFFE_SIDECAR_EGRESS_ALLOW';

/** Every `SPIFFE_SIDECAR_` variable the configuration understands. */
export const CONFIG_ENV_VARS: readonly string[] = Object.freeze([
  ENV_INBOUND_LISTEN,
  ENV_APP_ADDRESS,
  ENV_APP_PROTOCOL,
  ENV_OUTBOUND_LISTEN,
  ENV_TRANSPARENT,
  ENV_ADMIN_LISTEN,
  ENV_APP_PROBES,
  ENV_POLICY_FILE,
  ENV_LOG_LEVEL,
  ENV_ACCESS_LOG,
  ENV_SVID_HINT,
  ENV_DRAIN_TIMEOUT,
  ENV_INBOUND_TRANSPARENT,
  ENV_MESH_CIDRS,
  ENV_OPAQUE_PORTS,
  ENV_EGRESS_ALLOW,
]);

/**
 * True for the variables that would override a sidecar's config file:
 * every `SPIFFE_SIDECAR_` name and `SPIFFE_ENDPOINT_SOCKET`. The demo and
 * the tests drop these from the environment a child sidecar inherits.
 */
export function isSidecarEnvName(name: string): boolean {
  return name.startsWith(ENV_PREFIX) || name === ENV_ENDPOINT_SOCKET;
}
