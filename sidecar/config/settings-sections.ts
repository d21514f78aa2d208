import { DEFAULT_SPIFFE_ID_HEADER, DEFAULT_USER_HEADERS, DEFAULT_XFCC_HEADER, HeaderError, IdentityHeaders, UserHeaders } from '../headers/index.ts';
import { ClaimPath } from '../policy/index.ts';
import {
  ENV_ACCESS_LOG,
  ENV_ADMIN_LISTEN,
  ENV_DRAIN_TIMEOUT,
  ENV_LOG_LEVEL,
  UPSTREAM_BUDGET_DEFAULTS,
  type Address,
  type ProxyLimits,
} from '../core/index.ts';
import { NO_ADDRESS, parseAddress } from './address-fields.ts';
import { appProbesSection } from './app-probes-section.ts';
import { LOG_LEVELS, type AppProbe, type ClaimHeader, type HeaderNames, type LogLevel } from './config.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { deepFreeze } from './deep-freeze.ts';
import { parseDuration } from './duration.ts';
import { envBoolean, headerName, integerIn, nonEmptyString, oneOf, yamlBoolean } from './field-parsers.ts';

/** The settings shared by every listener: headers, admin, limits, drain, log, metrics. */
export interface Settings {
  readonly headers: HeaderNames;
  readonly admin: { readonly listen: Address; readonly appProbes: readonly AppProbe[] };
  readonly limits: ProxyLimits;
  readonly drain: { readonly timeoutMs: number };
  readonly log: LogSettings;
  readonly metrics: { readonly maxPeerIds: number };
}

/** The `log` section: level, access log and audit log (docs/audit-log.md). */
export interface LogSettings {
  readonly level: LogLevel;
  readonly accessLog: boolean;
  /** One JSON line per decision in the audit schema. */
  readonly audit: AuditMode;
  /** Deny lines one caller may produce at once. */
  readonly auditDenyBurst: number;
  /** Deny lines one caller may produce per minute after the burst. */
  readonly auditDenyPerMinute: number;
}

/** Values of `log.audit`. */
export const AUDIT_MODES = ['off', 'on'] as const;
/** Whether the audit log is written. */
export type AuditMode = (typeof AUDIT_MODES)[number];

/** Default values, exported for docs and tests. */
export const SETTINGS_DEFAULTS: Settings = deepFreeze({
  headers: {
    spiffeId: DEFAULT_SPIFFE_ID_HEADER,
    xfcc: DEFAULT_XFCC_HEADER,
    user: { ...DEFAULT_USER_HEADERS },
    claimHeaders: [],
    // The same list as forward's DEFAULT_STRIPPED_REQUEST_HEADERS (a unit test keeps them equal).
    stripInbound: ['x-http-method-override', 'x-method-override', 'x-http-method', 'x-original-url', 'x-rewrite-url'],
  },
  admin: { listen: { host: '0.0.0.0', port: 15020 }, appProbes: [] },
  limits: {
    maxHeaderBytes: 16384,
    maxConnections: 4096,
    idleTimeoutMs: 60_000,
    requestTimeoutMs: 0,
    headersTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    // The proxies' own defaults (core/proxy-limits.ts); docs/security.md
    // "Upstream budget" says why these values.
    ...UPSTREAM_BUDGET_DEFAULTS,
  },
  drain: { timeoutMs: 20_000 },
  log: { level: 'info', accessLog: false, audit: 'off', auditDenyBurst: 20, auditDenyPerMinute: 60 },
  metrics: { maxPeerIds: 200 },
});

/**
 * Asks the headers module whether it accepts the pair, so the rule (which
 * names may carry identity, and that they differ) lives in one place and a
 * bad name fails here rather than when the inbound proxy starts.
 */
function identityHeadersProblem(h: HeaderNames): string | undefined {
  try {
    new IdentityHeaders({ spiffeIdHeader: h.spiffeId, xfccHeader: h.xfcc, user: new UserHeaders({ ...h.user, claimHeaders: h.claimHeaders }) });
    return undefined;
  } catch (err) {
    if (err instanceof HeaderError) return err.message.replace(/^headers: /, '');
    throw err;
  }
}

const USER_HEADER_KEYS = ['subject', 'issuer', 'clientId', 'scopes', 'claims'] as const;

/** Reads `headers.claimHeaders`: `{ claim: <claim path as in policies>, header: <name> }` entries. */
function claimHeaders(r: ConfigReader, h: Mapping | undefined): ClaimHeader[] {
  const out: ClaimHeader[] = [];
  (r.list(h, 'claimHeaders', 'headers') ?? []).forEach((raw, i) => {
    const path = itemPath('headers.claimHeaders', i);
    const e = r.mapping(raw, path, ['claim', 'header']);
    if (e === undefined) return;
    if (!r.has(e, 'claim')) r.problem(childPath(path, 'claim'), 'is required: a claim path such as customer_id, org.id or ["https://example.com/tenant"]');
    if (!r.has(e, 'header')) r.problem(childPath(path, 'header'), 'is required, e.g. x-customer-id');
    const text = r.read(e, 'claim', path, nonEmptyString, '');
    const header = r.read(e, 'header', path, headerName, '');
    if (text === '' || header === '') return;
    const parsed = ClaimPath.parse(text);
    if (!parsed.ok) return r.problem(childPath(path, 'claim'), parsed.problem);
    out.push({ claim: parsed.path.segments, header });
  });
  return out;
}

/** An RFC 9110 §5.1 field name (a token), lowercase. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Reads `headers.stripInbound`: header names, `[]` to strip none. */
function strippedHeaders(r: ConfigReader, h: Mapping | undefined, fallback: readonly string[]): readonly string[] {
  const raw = r.list(h, 'stripInbound', 'headers');
  if (raw === undefined) return fallback;
  const out: string[] = [];
  raw.forEach((v, i) => {
    const name = typeof v === 'string' ? v.trim().toLowerCase() : '';
    if (FIELD_NAME.test(name)) out.push(name);
    else r.problem(itemPath('headers.stripInbound', i), `must be a header name such as x-http-method-override, got ${JSON.stringify(v)}`);
  });
  return out;
}

const positive = (raw: unknown) => parseDuration(raw, { allowZero: false });
const zeroOk = (raw: unknown) => parseDuration(raw, { allowZero: true });
const logLevel = oneOf(LOG_LEVELS);

/** Reads headers, admin (with its app probes), limits, drain, log and metrics, applying env overrides. */
export function settingsSections(r: ConfigReader, root: Mapping | undefined): Settings {
  const d = SETTINGS_DEFAULTS;

  const h = r.section(root, 'headers', '', ['spiffeId', 'xfcc', 'user', 'claimHeaders', 'stripInbound']);
  const u = r.section(h, 'user', 'headers', USER_HEADER_KEYS);
  const du = d.headers.user;
  const headers = {
    spiffeId: r.read(h, 'spiffeId', 'headers', headerName, d.headers.spiffeId),
    xfcc: r.read(h, 'xfcc', 'headers', headerName, d.headers.xfcc),
    user: {
      subject: r.read(u, 'subject', 'headers.user', headerName, du.subject),
      issuer: r.read(u, 'issuer', 'headers.user', headerName, du.issuer),
      clientId: r.read(u, 'clientId', 'headers.user', headerName, du.clientId),
      scopes: r.read(u, 'scopes', 'headers.user', headerName, du.scopes),
      claims: r.read(u, 'claims', 'headers.user', headerName, du.claims),
    },
    claimHeaders: claimHeaders(r, h),
    stripInbound: strippedHeaders(r, h, d.headers.stripInbound),
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
    'maxConcurrentRequestsPerConnection',
    'maxConcurrentRequestsPerCaller',
    'requestBodyIdleTimeout',
    'minUploadBytesPerSecond',
  ]);
  // Not annotated: every field is set (the budget's defaults are the proxies'
  // own), which the cross-checks below rely on.
  const limits = {
    maxHeaderBytes: r.read(l, 'maxHeaderBytes', 'limits', integerIn(1024, 1_048_576), d.limits.maxHeaderBytes),
    maxConnections: r.read(l, 'maxConnections', 'limits', integerIn(1, 1_000_000), d.limits.maxConnections),
    idleTimeoutMs: r.read(l, 'idleTimeout', 'limits', positive, d.limits.idleTimeoutMs),
    requestTimeoutMs: r.read(l, 'requestTimeout', 'limits', zeroOk, d.limits.requestTimeoutMs),
    headersTimeoutMs: r.read(l, 'headersTimeout', 'limits', positive, d.limits.headersTimeoutMs),
    connectTimeoutMs: r.read(l, 'connectTimeout', 'limits', positive, d.limits.connectTimeoutMs),
    // 1-65536: HTTP/2 advertises this as SETTINGS_MAX_CONCURRENT_STREAMS.
    maxConcurrentRequestsPerConnection: r.read(l, 'maxConcurrentRequestsPerConnection', 'limits', integerIn(1, 65_536), UPSTREAM_BUDGET_DEFAULTS.maxConcurrentRequestsPerConnection),
    maxConcurrentRequestsPerCaller: r.read(l, 'maxConcurrentRequestsPerCaller', 'limits', integerIn(1, 1_000_000), UPSTREAM_BUDGET_DEFAULTS.maxConcurrentRequestsPerCaller),
    requestBodyIdleTimeoutMs: r.read(l, 'requestBodyIdleTimeout', 'limits', zeroOk, UPSTREAM_BUDGET_DEFAULTS.requestBodyIdleTimeoutMs),
    minUploadBytesPerSecond: r.read(l, 'minUploadBytesPerSecond', 'limits', integerIn(0, 1_073_741_824), UPSTREAM_BUDGET_DEFAULTS.minUploadBytesPerSecond),
  };
  // The rate check measures against the idle timeout as its grace period (forward/upload-watch.ts).
  if (limits.minUploadBytesPerSecond > 0 && limits.requestBodyIdleTimeoutMs === 0 && !r.problems.some((p) => p.path === 'limits.minUploadBytesPerSecond' || p.path === 'limits.requestBodyIdleTimeout')) {
    r.problem('limits.minUploadBytesPerSecond', 'needs limits.requestBodyIdleTimeout above 0 (its grace period); set both to 0 to turn body limits off');
  }
  // node:http refuses a server whose headersTimeout exceeds a non-zero
  // requestTimeout. Checked only when both values themselves were valid.
  const timeoutsValid = !r.problems.some((p) => p.path === 'limits.requestTimeout' || p.path === 'limits.headersTimeout');
  if (timeoutsValid && limits.requestTimeoutMs > 0 && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    r.problem('limits.headersTimeout', `${limits.headersTimeoutMs}ms must not exceed limits.requestTimeout (${limits.requestTimeoutMs}ms)`);
  }

  const dr = r.section(root, 'drain', '', ['timeout']);
  const drain = { timeoutMs: r.override(r.read(dr, 'timeout', 'drain', zeroOk, d.drain.timeoutMs), ENV_DRAIN_TIMEOUT, zeroOk) };

  const lg = r.section(root, 'log', '', ['level', 'accessLog', 'audit', 'auditDenyBurst', 'auditDenyPerMinute']);
  const log = {
    level: r.override(r.read(lg, 'level', 'log', logLevel, d.log.level), ENV_LOG_LEVEL, logLevel),
    accessLog: r.override(r.read(lg, 'accessLog', 'log', yamlBoolean, d.log.accessLog), ENV_ACCESS_LOG, envBoolean),
    audit: r.read(lg, 'audit', 'log', oneOf(AUDIT_MODES), d.log.audit),
    auditDenyBurst: r.read(lg, 'auditDenyBurst', 'log', integerIn(1, 100_000), d.log.auditDenyBurst),
    auditDenyPerMinute: r.read(lg, 'auditDenyPerMinute', 'log', integerIn(1, 6_000_000), d.log.auditDenyPerMinute),
  };

  const mt = r.section(root, 'metrics', '', ['maxPeerIds']);
  const metrics = { maxPeerIds: r.read(mt, 'maxPeerIds', 'metrics', integerIn(0, 100_000), d.metrics.maxPeerIds) };

  return { headers, admin, limits, drain, log, metrics };
}
