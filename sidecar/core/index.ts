/**
 * core: the vocabulary every other folder shares: the error base class, the
 * injectable clock, the logger interface, and the names of the environment
 * variables the sidecar reads (so the config that reads them and the
 * injector that writes them cannot drift apart). It depends on nothing else
 * in the project and must stay free of I/O; it names variables but never
 * reads the process environment.
 */
export { SidecarError, errorCode, describeError } from './errors.ts';
export { systemClock, ManualClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { silentLogger } from './logger.ts';
export { deepFreeze } from './deep-freeze.ts';
export type { Logger } from './logger.ts';
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
