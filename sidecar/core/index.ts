/**
 * core: the vocabulary every other folder shares: the error base class, the
 * injectable clock, the logger interface, the names of the environment
 * variables the sidecar reads (so the config that reads them and the
 * injector that writes them cannot drift apart; likewise the rules an app
 * probe entry must pass, and the connection headers nothing may
 * configure), and the network nouns the config and the proxies share: a
 * TCP `Address` with the one host:port parser and formatter, and a proxy
 * listener's `ProxyLimits`. It depends
 * on nothing else in the project and must stay free of I/O; it names
 * variables but never reads the process environment.
 */
export { SidecarError, errorCode, describeError } from './errors.ts';
export { systemClock, ManualClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { silentLogger } from './logger.ts';
export { deepFreeze } from './deep-freeze.ts';
export type { Logger } from './logger.ts';
export { canonicalHost, formatAddress, formatAuthority, isDnsName, parseHostPort, parsePort, splitHostPort } from './address.ts';
export type { Address, Authority, HostPortResult, HostPortRules, HostPortSplit } from './address.ts';
export { UPSTREAM_BUDGET_DEFAULTS } from './proxy-limits.ts';
export {
  CONNECTION_HEADERS,
  HEADER_FIELD_VALUE,
  HEADER_NAME_TOKEN,
  MAX_PROBE_TARGET_LENGTH,
  PROBE_FRAMING_HEADERS,
  isProbeTargetSyntax,
  probeTargetPath,
} from './app-probe-rules.ts';
export type { ProxyLimits } from './proxy-limits.ts';
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
  isSidecarEnvName,
} from './env-names.ts';
export { loadUndici } from './load-undici.ts';
export { nodeHttp } from './node-http.ts';
