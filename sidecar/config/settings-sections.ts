import { DEFAULT_SPIFFE_ID_HEADER, DEFAULT_XFCC_HEADER, HeaderError, IdentityHeaders } from '../headers/index.ts';
import type { Address } from './address.ts';
import { NO_ADDRESS, parseAddress } from './address.ts';
import { appProbesSection } from './app-probes-section.ts';
import { LOG_LEVELS, type AppProbe, type HeaderNames, type Limits, type LogLevel } from './config.ts';
import type { ConfigReader, Mapping } from './config-reader.ts';
import { ENV_ACCESS_LOG, ENV_ADMIN_LISTEN, ENV_DRAIN_TIMEOUT, ENV_LOG_LEVEL } from './config-env.ts';
import { deepFreeze } from './deep-freeze.ts';
import { parseDuration } from './duration.ts';
import { envBoolean, headerName, integerIn, oneOf, yamlBoolean } from './field-parsers.ts';

/** The settings shared by every listener: headers, admin, limits, drain, log, metrics. */
export interface Settings {
  readonly headers: HeaderNames;
  readonly admin: { readonly listen: Address; readonly appProbes: readonly AppProbe[] };
  readonly limits: Limits;
  readonly drain: { readonly timeoutMs: number };
  readonly log: { readonly level: LogLevel; readonly accessLog: boolean };
  readonly metrics: { readonly maxPeerIds: number };
}

/** Default values, exported for docs and tests. */
export const SETTINGS_DEFAULTS: Settings = deepFreeze({
  headers: { spiffeId: DEFAULT_SPIFFE_ID_HEADER, xfcc: DEFAULT_XFCC_HEADER },
  admin: { listen: { host: '0.0.0.0', port: 15020 }, appProbes: [] },
  limits: {
    maxHeaderBytes: 16384,
    maxConnections: 4096,
    idleTimeoutMs: 60_000,
    requestTimeoutMs: 0,
    headersTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
  },
  drain: { timeoutMs: 20_000 },
  log: { level: 'info', accessLog: false },
  metrics: { maxPeerIds: 200 },
});

/**
 * Asks the headers module whether it accepts the pair, so the rule (which
 * names may carry identity, and that they differ) lives in one place and a
 * bad name fails here rather than when the inbound proxy starts.
 */
function identityHeadersProblem(h: HeaderNames): string | undefined {
  try {
    new IdentityHeaders({ spiffeIdHeader: h.spiffeId, xfccHeader: h.xfcc });
    return undefined;
  } catch (err) {
    if (err instanceof HeaderError) return err.message.replace(/^headers: /, '');
    throw err;
  }
}

const positive = (raw: unknown) => parseDuration(raw, { allowZero: false });
const zeroOk = (raw: unknown) => parseDuration(raw, { allowZero: true });
const logLevel = oneOf(LOG_LEVELS);

/** Reads headers, admin (with its app probes), limits, drain, log and metrics, applying env overrides. */
export function settingsSections(r: ConfigReader, root: Mapping | undefined): Settings {
  const d = SETTINGS_DEFAULTS;

  const h = r.section(root, 'headers', '', ['spiffeId', 'xfcc']);
  const headers = {
    spiffeId: r.read(h, 'spiffeId', 'headers', headerName, d.headers.spiffeId),
    xfcc: r.read(h, 'xfcc', 'headers', headerName, d.headers.xfcc),
  };
  const headersProblem = identityHeadersProblem(headers);
  if (headersProblem !== undefined) r.problem('headers', headersProblem);

  const a = r.section(root, 'admin', '', ['listen', 'appProbes']);
  const fileAdmin = r.read(a, 'listen', 'admin', parseAddress, d.admin.listen, NO_ADDRESS);
  const adminListen = r.override(fileAdmin, ENV_ADMIN_LISTEN, parseAddress, NO_ADDRESS);
  const admin = { listen: adminListen, appProbes: appProbesSection(r, a, adminListen) };

  const l = r.section(root, 'limits', '', [
    'maxHeaderBytes',
    'maxConnections',
    'idleTimeout',
    'requestTimeout',
    'headersTimeout',
    'connectTimeout',
  ]);
  const limits: Limits = {
    maxHeaderBytes: r.read(l, 'maxHeaderBytes', 'limits', integerIn(1024, 1_048_576), d.limits.maxHeaderBytes),
    maxConnections: r.read(l, 'maxConnections', 'limits', integerIn(1, 1_000_000), d.limits.maxConnections),
    idleTimeoutMs: r.read(l, 'idleTimeout', 'limits', positive, d.limits.idleTimeoutMs),
    requestTimeoutMs: r.read(l, 'requestTimeout', 'limits', zeroOk, d.limits.requestTimeoutMs),
    headersTimeoutMs: r.read(l, 'headersTimeout', 'limits', positive, d.limits.headersTimeoutMs),
    connectTimeoutMs: r.read(l, 'connectTimeout', 'limits', positive, d.limits.connectTimeoutMs),
  };
  // node:http refuses a server whose headersTimeout exceeds a non-zero
  // requestTimeout. Checked only when both values themselves were valid.
  const timeoutsValid = !r.problems.some((p) => p.path === 'limits.requestTimeout' || p.path === 'limits.headersTimeout');
  if (timeoutsValid && limits.requestTimeoutMs > 0 && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    r.problem('limits.headersTimeout', `${limits.headersTimeoutMs}ms must not exceed limits.requestTimeout (${limits.requestTimeoutMs}ms)`);
  }

  const dr = r.section(root, 'drain', '', ['timeout']);
  const drain = { timeoutMs: r.override(r.read(dr, 'timeout', 'drain', zeroOk, d.drain.timeoutMs), ENV_DRAIN_TIMEOUT, zeroOk) };

  const lg = r.section(root, 'log', '', ['level', 'accessLog']);
  const log = {
    level: r.override(r.read(lg, 'level', 'log', logLevel, d.log.level), ENV_LOG_LEVEL, logLevel),
    accessLog: r.override(r.read(lg, 'accessLog', 'log', yamlBoolean, d.log.accessLog), ENV_ACCESS_LOG, envBoolean),
  };

  const mt = r.section(root, 'metrics', '', ['maxPeerIds']);
  const metrics = { maxPeerIds: r.read(mt, 'maxPeerIds', 'metrics', integerIn(0, 100_000), d.metrics.maxPeerIds) };

  return { headers, admin, limits, drain, log, metrics };
}
