/**
 * config: turns the YAML file and environment into one validated, deeply
 * frozen Config. Every problem is collected and reported at once; unknown
 * keys are errors so a typo never silently disables a security setting.
 *
 * Pure apart from YAML parsing: it must not read files, the environment or the
 * network; the CLI reads the file and passes the environment in.
 */
export { parseConfig } from './parse-config.ts';
export { loadConfigText } from './load-config-text.ts';
export { redactedConfig } from './redacted-config.ts';
export { ConfigError } from './config-error.ts';
export type { ConfigErrorCode, ConfigProblem } from './config-error.ts';
export { LOG_LEVELS } from './config.ts';
export type {
  AppProbe,
  AppProbeHeader,
  AppProtocol,
  ClaimHeader,
  UserHeaderNames,
  Config,
  HeaderNames,
  InboundAppPort,
  InboundConfig,
  InboundTcpTunnel,
  LogLevel,
  OutboundConfig,
  OutboundTcpTunnel,
  PeerIdMatch,
  PolicySource,
  SpiffeSettings,
  TcpTunnel,
  TransparentOutbound,
  UpstreamRoute,
  UpstreamProtocol,
} from './config.ts';
export { isLoopbackHost, parseAddress } from './address-fields.ts';
// The address vocabulary is core's; re-exported for the folders that read a Config.
export { formatAddress } from '../core/index.ts';
export type { Address } from '../core/index.ts';
export type { AuthConfig, JwtProviderConfig, IntrospectionConfig, IntrospectionClientAuthConfig, ContextHandleConfig } from './auth-section.ts';
export { parseDuration, MAX_DURATION_MS } from './duration.ts';
export { TRACING_DEFAULTS } from './tracing-section.ts';
export type { TracingConfig } from './tracing-section.ts';
export { peerIdMatcher } from './peer-id-match.ts';
export { SETTINGS_DEFAULTS } from './settings-sections.ts';
export { DEFAULT_INBOUND_LISTEN, DEFAULT_OUTBOUND_LISTEN } from './proxy-sections.ts';
export type { Parsed } from './parsed.ts';
