import { isIP } from 'node:net';
import {
  ENV_APP_ADDRESS,
  ENV_APP_PROTOCOL,
  ENV_EGRESS_ALLOW,
  ENV_INBOUND_LISTEN,
  ENV_INBOUND_TRANSPARENT,
  ENV_MESH_CIDRS,
  ENV_OPAQUE_PORTS,
  ENV_OUTBOUND_LISTEN,
  ENV_POLICY_FILE,
  ENV_TRANSPARENT,
  formatAddress,
  formatAuthority,
  isDnsName,
  type Address,
} from '../core/index.ts';
import { NO_ADDRESS, isLoopbackHost, parseAddress, parseHostMatch } from './address-fields.ts';
import { tokenExchangeProblems } from '../exchange/index.ts';
import type {
  EgressRule,
  InboundAppPort,
  InboundConfig,
  OutboundConfig,
  OutboundToken,
  OutboundTokenMode,
  PeerIdMatch,
  PolicySource,
  TcpTunnel,
  TokenExchangeConfig,
  TransparentOutbound,
  UpstreamRoute,
} from './config.ts';
import { parseDuration } from './duration.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { envBoolean, integerIn, nonEmptyString, oneOf, yamlBoolean } from './field-parsers.ts';
import { accept, quoted, reject, typeName, type Parsed } from './parsed.ts';
import { SERVER_MATCH_KEYS, readPeerIdMatch } from './peer-id-match.ts';

/** Default listener addresses (the Istio-style ports operators already know). */
export const DEFAULT_INBOUND_LISTEN: Address = Object.freeze({ host: '0.0.0.0', port: 15006 });
/** Loopback by default: the outbound listener sends with this workload's identity. */
export const DEFAULT_OUTBOUND_LISTEN: Address = Object.freeze({ host: '127.0.0.1', port: 15001 });

const INBOUND_KEYS = ['listen', 'app', 'appProtocol', 'appPorts', 'policyFile', 'webSocket', 'transparent', 'opaquePorts'] as const;
const APP_PORT_KEYS = ['port', 'app', 'appProtocol'] as const;
const INBOUND_ENV = [ENV_INBOUND_LISTEN, ENV_APP_ADDRESS, ENV_APP_PROTOCOL, ENV_POLICY_FILE, ENV_INBOUND_TRANSPARENT] as const;
const OUTBOUND_KEYS = ['listen', 'upstreams', 'transparent', 'tokenExchange', 'egress'] as const;
const TRANSPARENT_KEYS = ['enabled', 'ports', 'webSocket', 'token', 'meshCidrs', 'opaquePorts', 'detectTimeout', ...SERVER_MATCH_KEYS] as const;
const EGRESS_KEYS = ['allow'] as const;
const EGRESS_RULE_KEYS = ['host', 'cidr', 'ports'] as const;
/**
 * The mesh by default: the private ranges of RFC 1918 §3 and the IPv6
 * unique local addresses of RFC 4193, where cluster pod and service
 * networks live (the same list as sidecar/outbound's DEFAULT_MESH_CIDRS).
 */
const DEFAULT_MESH_CIDRS: readonly string[] = Object.freeze(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
/** linkerd2's default opaque ports (the same list as sidecar/transparent's DEFAULT_OPAQUE_PORTS). */
const DEFAULT_OPAQUE_PORTS: readonly number[] = Object.freeze([25, 587, 3306, 4444, 5432, 6379, 9300, 11211]);
const DEFAULT_DETECT_TIMEOUT_MS = 1_000;
/** Longer waits would hold every connection of a server-first protocol on an undeclared port that long. */
const MAX_DETECT_TIMEOUT_MS = 10_000;
const UPSTREAM_KEYS = ['host', 'address', 'protocol', 'webSocket', 'token', ...SERVER_MATCH_KEYS] as const;
const TOKEN_KEYS = ['mode', 'audience', 'scope', 'obtain'] as const;
const TOKEN_EXCHANGE_KEYS = [
  'endpoint',
  'clientAuth',
  'caFile',
  'actorToken',
  'actorTokenAudience',
  'requestTimeout',
  'maxCacheEntries',
  'maxInFlight',
  'expirySkew',
] as const;
const EXCHANGE_CLIENT_AUTH_KEYS = ['method', 'clientId', 'clientSecretFile', 'assertionAudience'] as const;
const tokenMode = oneOf(['none', 'forward', 'jwt-svid', 'exchange', 'txn'] as const);
const exchangeClientAuthMethod = oneOf(['client_secret_basic', 'client_secret_post', 'tls_client_auth', 'self_signed_tls_client_auth', 'jwt-svid'] as const);
// RFC 6749 §3.3: space-delimited scope tokens of %x21 / %x23-5B / %x5D-7E.
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const NO_TOKEN: OutboundToken = Object.freeze({ mode: 'none', audience: null, scope: null });
const TCP_INBOUND_KEYS = ['name', 'direction', 'listen', 'target', 'policyFile'] as const;
const TCP_OUTBOUND_KEYS = ['name', 'direction', 'listen', 'address', ...SERVER_MATCH_KEYS] as const;
const TCP_KEYS: readonly string[] = [...new Set<string>([...TCP_INBOUND_KEYS, ...TCP_OUTBOUND_KEYS])];
const TUNNEL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const appProtocol = oneOf(['http1', 'h2c'] as const);
const upstreamProtocol = oneOf(['http1', 'h2'] as const);
const direction = oneOf(['inbound', 'outbound'] as const);
const port = integerIn(1, 65535);

function requiredAddress(r: ConfigReader, m: Mapping, key: string, path: string, example: string): Address {
  if (!r.has(m, key)) {
    r.problem(childPath(path, key), `is required, e.g. ${example}`);
    return NO_ADDRESS;
  }
  return r.read(m, key, path, parseAddress, NO_ADDRESS);
}

function policyFrom(file: string | undefined): PolicySource {
  return file === undefined ? { kind: 'sameTrustDomain' } : { kind: 'file', path: file };
}

function warnIfNotLoopback(r: ConfigReader, a: Address, path: string, why: string): void {
  if (a !== NO_ADDRESS && !isLoopbackHost(a.host)) r.warn(`${path} ${formatAddress(a)} is not a loopback address: ${why}`);
}

const PLAINTEXT_TO_APP = 'traffic from the sidecar to it is not encrypted';
const OPEN_EGRESS = "any host that can reach it can send requests with this workload's identity";

/**
 * Reads `inbound:`. The proxy is enabled when the file has the section or
 * any inbound env var is set (so env-only deployments work).
 *
 * Without a policy file, inbound admits any authenticated caller of our own
 * trust domain: strict enough that another trust domain (a federated one)
 * is never admitted by default, loose enough that a mesh works before anyone
 * writes a policy (docs/config.md, "Default policy").
 */
export function inboundSection(r: ConfigReader, root: Mapping | undefined): InboundConfig | null {
  const envSet = INBOUND_ENV.some((n) => r.env(n) !== undefined);
  if (!r.has(root, 'inbound') && !envSet) return null;
  const m = r.section(root, 'inbound', '', INBOUND_KEYS);
  if (r.has(root, 'inbound') && m === undefined) return null;

  const fileListen = r.read(m, 'listen', 'inbound', parseAddress, DEFAULT_INBOUND_LISTEN, NO_ADDRESS);
  const listen = r.override(fileListen, ENV_INBOUND_LISTEN, parseAddress, NO_ADDRESS);
  let app = r.override(r.read(m, 'app', 'inbound', parseAddress, NO_ADDRESS), ENV_APP_ADDRESS, parseAddress, NO_ADDRESS);
  if (!r.has(m, 'app') && r.env(ENV_APP_ADDRESS) === undefined) {
    r.problem('inbound.app', `is required: the local app's address, e.g. 127.0.0.1:8080 (or set ${ENV_APP_ADDRESS})`);
    app = NO_ADDRESS;
  }
  const protocol = r.override(r.read(m, 'appProtocol', 'inbound', appProtocol, 'http1'), ENV_APP_PROTOCOL, appProtocol);
  const file = r.override(r.read(m, 'policyFile', 'inbound', nonEmptyString, undefined), ENV_POLICY_FILE, nonEmptyString);
  warnIfNotLoopback(r, app, 'inbound.app', PLAINTEXT_TO_APP);
  const webSocket = r.read(m, 'webSocket', 'inbound', yamlBoolean, false);
  const ports = appPorts(r, m);
  const transparent = r.override(r.read(m, 'transparent', 'inbound', yamlBoolean, false), ENV_INBOUND_TRANSPARENT, envBoolean, false);
  return { listen, app, appProtocol: protocol, appPorts: ports, policy: policyFrom(file), webSocket, transparent, opaquePorts: opaquePorts(r, m, transparent, ports) };
}

/**
 * Reads `inbound.opaquePorts`: original destination ports whose connections
 * are joined to the app as raw TCP. They are known only from the original
 * destination, so they need `transparent: true`; a port cannot be both
 * opaque and an HTTP app port.
 */
function opaquePorts(r: ConfigReader, m: Mapping | undefined, transparent: boolean, http: readonly InboundAppPort[]): number[] {
  // An empty list is simply "none" (portList would read it as "any port").
  if (m === undefined || !r.has(m, 'opaquePorts') || (Array.isArray(m['opaquePorts']) && m['opaquePorts'].length === 0)) return [];
  const listPath = 'inbound.opaquePorts';
  const ports = portList(r, m, 'opaquePorts', 'inbound') ?? [];
  if (ports.length > 0 && !transparent) r.problem(listPath, 'needs inbound.transparent: true (opaque ports are recognised by the original destination port)');
  ports.forEach((p, i) => {
    if (http.some((a) => a.port === p)) r.problem(itemPath(listPath, i), `${p} is also in inbound.appPorts (a port is either HTTP or opaque)`);
  });
  return ports;
}

/**
 * Reads `inbound.appPorts`: further apps chosen by the port the caller
 * addressed. Ports must be unique; each entry needs its own app address.
 */
function appPorts(r: ConfigReader, m: Mapping | undefined): InboundAppPort[] {
  const out: InboundAppPort[] = [];
  const seen = new Map<number, string>();
  const listPath = 'inbound.appPorts';
  (r.list(m, 'appPorts', 'inbound') ?? []).forEach((raw, i) => {
    const path = itemPath(listPath, i);
    const e = r.mapping(raw, path, APP_PORT_KEYS);
    if (e === undefined) return;
    let p = 0;
    if (!r.has(e, 'port')) r.problem(childPath(path, 'port'), 'is required: the port callers address, e.g. 9090');
    else p = r.read(e, 'port', path, port, 0);
    if (p !== 0) {
      const first = seen.get(p);
      if (first !== undefined) r.problem(childPath(path, 'port'), `${p} is already routed by ${first}`);
      else seen.set(p, path);
    }
    const app = requiredAddress(r, e, 'app', path, '127.0.0.1:9090');
    warnIfNotLoopback(r, app, childPath(path, 'app'), PLAINTEXT_TO_APP);
    out.push({ port: p, app, appProtocol: r.read(e, 'appProtocol', path, appProtocol, 'http1') });
  });
  return out;
}

/**
 * Reads one upstream. In transparent mode `address` may be left out: the
 * route then only pins the server identity (and protocol) of a host that
 * is dialled by its own name.
 */
function upstream(r: ConfigReader, raw: unknown, path: string, transparent: boolean): UpstreamRoute | undefined {
  const m = r.mapping(raw, path, UPSTREAM_KEYS);
  if (m === undefined) return undefined;
  let match = { host: '', port: null as number | null };
  if (!r.has(m, 'host')) r.problem(childPath(path, 'host'), 'is required: the host name the app calls, e.g. backend or backend:8080');
  else match = r.read(m, 'host', path, parseHostMatch, match);
  const address =
    transparent && !r.has(m, 'address')
      ? null
      : requiredAddress(r, m, 'address', path, "10.0.0.5:15006 (the peer sidecar's inbound listener; optional in transparent mode)");
  const server = readPeerIdMatch(r, m, path);
  const protocol = r.read(m, 'protocol', path, upstreamProtocol, 'http1');
  const webSocket = r.read(m, 'webSocket', path, yamlBoolean, false);
  const token = outboundToken(r, m, path, server);
  return { host: match.host, port: match.port, address, server, protocol, webSocket, token };
}

/**
 * Reads `token`: a mode name, or `{ mode, audience?, scope? }`. A token made
 * for the upstream (`jwt-svid`, `exchange`) needs an audience: by default
 * the upstream's SPIFFE ID when it expects exactly one, else it must be set.
 */
function outboundToken(r: ConfigReader, m: Mapping, path: string, server: PeerIdMatch | null): OutboundToken {
  if (!r.has(m, 'token')) return NO_TOKEN;
  const at = childPath(path, 'token');
  let mode: OutboundTokenMode = 'none';
  let audience: string | null = null;
  let scope: string | null = null;
  let obtain = false;
  if (typeof m['token'] === 'string') {
    mode = r.read(m, 'token', path, tokenMode, 'none');
  } else {
    const t = r.section(m, 'token', path, TOKEN_KEYS);
    if (t === undefined) return NO_TOKEN;
    if (!r.has(t, 'mode')) r.problem(childPath(at, 'mode'), 'is required: none, forward, jwt-svid, exchange or txn');
    mode = r.read(t, 'mode', at, tokenMode, 'none');
    if (r.has(t, 'obtain')) {
      obtain = r.read(t, 'obtain', at, yamlBoolean, false);
      if (mode !== 'txn') r.problem(childPath(at, 'obtain'), 'applies only to mode txn');
    }
    audience = r.read<string | null>(t, 'audience', at, nonEmptyString, null);
    if (r.has(t, 'scope')) {
      scope = r.read<string | null>(t, 'scope', at, (v) => (typeof v === 'string' && SCOPE.test(v) ? accept(v) : reject('must be space-separated OAuth scope tokens (RFC 6749 §3.3)')), null);
    }
    const obtaining = mode === 'txn' && obtain;
    if (audience !== null && mode !== 'jwt-svid' && mode !== 'exchange' && !obtaining) r.problem(childPath(at, 'audience'), `does not apply to mode ${mode}${mode === 'txn' ? ' without obtain' : ''}`);
    if (scope !== null && mode !== 'exchange' && !obtaining) r.problem(childPath(at, 'scope'), `applies only to mode exchange and to txn with obtain`);
    // A transaction token's audience is the trust domain, not one upstream: no default from serverId.
    if (obtaining && audience === null) r.problem(childPath(at, 'audience'), 'is required for txn with obtain: the trust domain the transaction token is for');
  }
  if ((mode === 'jwt-svid' || mode === 'exchange') && audience === null) {
    if (server?.kind === 'id') audience = server.id.toString();
    else r.problem(childPath(at, 'audience'), `is required for ${mode} here: the upstream does not expect exactly one SPIFFE ID (serverId) to default to`);
  }
  return obtain ? { mode, audience, scope, obtain } : { mode, audience, scope };
}

/** Reads `outbound.tokenExchange`, checked by the exchange module's own rules; null when absent. */
function tokenExchangeSection(r: ConfigReader, m: Mapping | undefined): TokenExchangeConfig | null {
  const path = 'outbound.tokenExchange';
  const t = r.section(m, 'tokenExchange', 'outbound', TOKEN_EXCHANGE_KEYS);
  if (t === undefined) return null;
  const before = r.problems.length;
  if (!r.has(t, 'endpoint')) r.problem(childPath(path, 'endpoint'), 'is required: the token endpoint, e.g. https://as.example/token');
  const endpoint = r.read(t, 'endpoint', path, nonEmptyString, '');
  const caPath = childPath(path, 'clientAuth');
  const ca = r.section(t, 'clientAuth', path, EXCHANGE_CLIENT_AUTH_KEYS);
  if (ca === undefined && !r.has(t, 'clientAuth')) r.problem(caPath, 'is required: method (tls_client_auth to use the SVID) and clientId');
  const method = r.read(ca, 'method', caPath, exchangeClientAuthMethod, 'tls_client_auth');
  const clientId = r.read(ca, 'clientId', caPath, nonEmptyString, '');
  const secretFile = r.read<string | undefined>(ca, 'clientSecretFile', caPath, nonEmptyString, undefined);
  const assertionAudience = r.read<string | undefined>(ca, 'assertionAudience', caPath, nonEmptyString, undefined);
  const o: { -readonly [K in keyof TokenExchangeConfig]: TokenExchangeConfig[K] } = {
    endpoint,
    clientAuth: {
      method,
      clientId,
      ...(secretFile !== undefined ? { clientSecretFile: secretFile } : {}),
      ...(assertionAudience !== undefined ? { assertionAudience } : {}),
    },
  };
  const duration = (raw: unknown) => parseDuration(raw, { allowZero: true });
  if (r.has(t, 'caFile')) o.caFile = r.read(t, 'caFile', path, nonEmptyString, '');
  if (r.has(t, 'actorToken')) o.actorToken = r.read(t, 'actorToken', path, yamlBoolean, false);
  if (r.has(t, 'actorTokenAudience')) o.actorTokenAudience = r.read(t, 'actorTokenAudience', path, nonEmptyString, '');
  if (r.has(t, 'requestTimeout')) o.requestTimeoutMs = r.read(t, 'requestTimeout', path, duration, 2_000);
  if (r.has(t, 'maxCacheEntries')) o.maxCacheEntries = r.read(t, 'maxCacheEntries', path, integerIn(0, 1_000_000), 10_000);
  if (r.has(t, 'maxInFlight')) o.maxInFlight = r.read(t, 'maxInFlight', path, integerIn(1, 10_000), 256);
  if (r.has(t, 'expirySkew')) o.expirySkewMs = r.read(t, 'expirySkew', path, duration, 30_000);
  if (r.problems.length === before) {
    const { caFile: _caFile, ...options } = o;
    // The module's own rules, reported at this document's paths (`requestTimeoutMs` → `requestTimeout`).
    for (const p of tokenExchangeProblems(options)) r.problem(`${path}.${p.path.replace(/Ms$/, '')}`, p.message);
  }
  return o;
}

/** Reads a list of unique ports at `path`; undefined when absent. */
function portList(r: ConfigReader, m: Mapping, key: string, path: string): number[] | undefined {
  const raw = r.list(m, key, path);
  if (raw === undefined) return undefined;
  const listPath = childPath(path, key);
  if (raw.length === 0 && Array.isArray(m[key])) r.problem(listPath, 'must list at least one port (remove the key to allow any port)');
  const ports: number[] = [];
  raw.forEach((item, i) => {
    const p = port(item);
    if (!p.ok) return r.problem(itemPath(listPath, i), p.message);
    if (ports.includes(p.value)) return r.problem(itemPath(listPath, i), `${p.value} is listed twice`);
    ports.push(p.value);
  });
  return ports;
}

/**
 * Reads `outbound.transparent` and the SPIFFE_SIDECAR_TRANSPARENT override.
 * Returns null when the mode is off.
 *
 * Without serverId/serverIds/serverTrustDomain, a host reached by its own
 * name must present an ID of our own trust domain: the narrowest default
 * under which a mesh works (the same reasoning as the inbound default
 * policy, docs/config.md). Any other expectation needs a pin, either here
 * or per host in `upstreams`.
 */
function transparentSection(r: ConfigReader, m: Mapping | undefined): TransparentOutbound | null {
  const path = 'outbound.transparent';
  const t = r.section(m, 'transparent', 'outbound', TRANSPARENT_KEYS);
  let enabled = false;
  let server: PeerIdMatch | null = null;
  let ports: number[] | null = null;
  let webSocket = false;
  let token = NO_TOKEN;
  let meshCidrs = DEFAULT_MESH_CIDRS;
  let opaque = DEFAULT_OPAQUE_PORTS;
  let detectTimeoutMs = DEFAULT_DETECT_TIMEOUT_MS;
  if (t !== undefined) {
    webSocket = r.read(t, 'webSocket', path, yamlBoolean, false);
    if (!r.has(t, 'enabled')) r.problem(childPath(path, 'enabled'), 'is required: true or false');
    else enabled = r.read(t, 'enabled', path, yamlBoolean, false);
    if (SERVER_MATCH_KEYS.some((k) => r.has(t, k))) server = readPeerIdMatch(r, t, path);
    ports = portList(r, t, 'ports', path) ?? null;
    token = outboundToken(r, t, path, server);
    meshCidrs = r.read(t, 'meshCidrs', path, cidrList, DEFAULT_MESH_CIDRS);
    // An empty list is allowed here: it means "sniff every port".
    opaque = r.has(t, 'opaquePorts') && Array.isArray(t['opaquePorts']) && t['opaquePorts'].length === 0 ? [] : (portList(r, t, 'opaquePorts', path) ?? DEFAULT_OPAQUE_PORTS);
    detectTimeoutMs = r.read(t, 'detectTimeout', path, detectTimeout, DEFAULT_DETECT_TIMEOUT_MS);
  }
  enabled = r.override(enabled, ENV_TRANSPARENT, envBoolean, false);
  meshCidrs = r.override(meshCidrs, ENV_MESH_CIDRS, (raw) => cidrList(String(raw).split(',').map((c) => c.trim())));
  opaque = r.override(opaque, ENV_OPAQUE_PORTS, envPortList);
  const egress = egressSection(r, m, enabled);
  return enabled ? { server, ports, webSocket, token, meshCidrs, opaquePorts: opaque, detectTimeoutMs, egress } : null;
}

/** A list of CIDRs (`10.0.0.0/8`, `fd00::/8`) or single addresses; not empty. */
function cidrList(raw: unknown): Parsed<string[]> {
  if (!Array.isArray(raw)) return reject(`must be a list of CIDRs, got ${typeName(raw)}`);
  if (raw.length === 0) return reject('must list at least one CIDR (the mesh cannot be empty: every destination would be egress)');
  const out: string[] = [];
  for (const c of raw) {
    const p = cidr(c);
    if (!p.ok) return p;
    out.push(p.value);
  }
  return accept(out);
}

/** One IPv4 or IPv6 network, `address/prefix`, or one address. */
function cidr(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be a CIDR such as 10.0.0.0/8, got ${typeName(raw)}`);
  const slash = raw.indexOf('/');
  const address = slash < 0 ? raw : raw.slice(0, slash);
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  const prefix = slash < 0 ? String(bits) : raw.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > bits) return reject(`${quoted(raw)} is not a CIDR (a.b.c.d/n, an IPv6 prefix such as fd00::/8, or one address)`);
  return accept(raw);
}

/** A comma-separated port list from env, or `none` for an empty one. */
function envPortList(raw: unknown): Parsed<number[]> {
  const text = String(raw).trim();
  if (text === 'none') return accept([]);
  const out: number[] = [];
  for (const item of text.split(',')) {
    const p = port(/^[0-9]+$/.test(item.trim()) ? Number(item.trim()) : item.trim());
    if (!p.ok) return reject(`${quoted(item)}: ${p.message} (a comma-separated list of ports, or none)`);
    if (!out.includes(p.value)) out.push(p.value);
  }
  return accept(out);
}

function detectTimeout(raw: unknown): Parsed<number> {
  const d = parseDuration(raw, { allowZero: false });
  if (d.ok && d.value > MAX_DETECT_TIMEOUT_MS) return reject(`${quoted(raw)}: must be at most 10s (server-first protocols wait this long on every connection)`);
  return d;
}

/** An egress host pattern: a DNS name, or `*.` and one; returned lowercase without a trailing dot. */
function egressHost(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be a DNS name such as api.example.com or *.example.com, got ${typeName(raw)}`);
  let h = raw.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  const name = h.startsWith('*.') ? h.slice(2) : h;
  if (isIP(name) !== 0) return reject(`${quoted(raw)} is an IP address: list it as cidr instead`);
  if (!isDnsName(name)) {
    return reject(`${quoted(raw)} is not a DNS name (a wildcard is allowed only as the whole first label, "*.example.com")`);
  }
  return accept(h);
}

/** Reads the entries of an egress allow-list (from the file or the env var's JSON). */
function egressRules(r: ConfigReader, list: readonly unknown[], listPath: string): EgressRule[] {
  const out: EgressRule[] = [];
  list.forEach((raw, i) => {
    const path = itemPath(listPath, i);
    const e = r.mapping(raw, path, EGRESS_RULE_KEYS);
    if (e === undefined) return;
    if (r.has(e, 'host') === r.has(e, 'cidr')) {
      r.problem(path, 'needs exactly one of host (a DNS name, matched against HTTP Host and TLS SNI) and cidr (matched against the destination address)');
      return;
    }
    const host = r.has(e, 'host') ? r.read<string | null>(e, 'host', path, egressHost, null) : null;
    const net = r.has(e, 'cidr') ? r.read<string | null>(e, 'cidr', path, cidr, null) : null;
    const ports = portList(r, e, 'ports', path) ?? null;
    out.push({ host, cidr: net, ports });
  });
  return out;
}

/**
 * Reads `outbound.egress` and SPIFFE_SIDECAR_EGRESS_ALLOW (a JSON array of
 * the same entries, replacing the file's list): the destinations outside
 * the mesh that transparent mode lets the app reach. Absent means none
 * (default deny). It needs transparent mode: without it the outbound
 * reaches configured upstreams only.
 */
function egressSection(r: ConfigReader, m: Mapping | undefined, transparent: boolean): EgressRule[] {
  const path = 'outbound.egress';
  const e = r.section(m, 'egress', 'outbound', EGRESS_KEYS);
  if (e !== undefined && !transparent) r.problem(path, 'applies only with outbound.transparent.enabled: true (redirected connections to destinations outside the mesh)');
  const rules = egressRules(r, r.list(e, 'allow', path) ?? [], childPath(path, 'allow'));
  const fromEnv = r.envList(ENV_EGRESS_ALLOW, 'egress entries ({"host": ...} or {"cidr": ...})');
  return fromEnv === undefined ? rules : egressRules(r, fromEnv, `env ${ENV_EGRESS_ALLOW}`);
}

/** Reads `outbound:`; enabled when the file has the section, or the outbound listen or transparent env var (true) is set. */
export function outboundSection(r: ConfigReader, root: Mapping | undefined): OutboundConfig | null {
  const rawTransparent = r.env(ENV_TRANSPARENT);
  const envTransparent = rawTransparent === undefined ? undefined : envBoolean(rawTransparent);
  if (!r.has(root, 'outbound') && r.env(ENV_OUTBOUND_LISTEN) === undefined && !(envTransparent?.ok === true && envTransparent.value)) {
    // A bad value must still be reported when nothing else enables outbound.
    if (rawTransparent !== undefined) r.override(false, ENV_TRANSPARENT, envBoolean);
    return null;
  }
  const m = r.section(root, 'outbound', '', OUTBOUND_KEYS);
  if (r.has(root, 'outbound') && m === undefined) return null;

  const fileListen = r.read(m, 'listen', 'outbound', parseAddress, DEFAULT_OUTBOUND_LISTEN, NO_ADDRESS);
  const listen = r.override(fileListen, ENV_OUTBOUND_LISTEN, parseAddress, NO_ADDRESS);
  const transparent = transparentSection(r, m);
  // In transparent mode `[::]` is what the injector binds (IPv6 redirects
  // land on ::1), and the pod's iptables rules send outside traffic for the
  // outbound port to the mTLS listener instead, so it is not open egress.
  if (!(transparent !== null && listen.host === '::')) warnIfNotLoopback(r, listen, 'outbound.listen', OPEN_EGRESS);
  const upstreams: UpstreamRoute[] = [];
  const seen = new Map<string, string>();
  const listPath = 'outbound.upstreams';
  (r.list(m, 'upstreams', 'outbound') ?? []).forEach((raw, i) => {
    const path = itemPath(listPath, i);
    const u = upstream(r, raw, path, transparent !== null);
    if (u === undefined) return;
    if (u.host !== '') {
      // Host names are case-insensitive, so `Backend` and `backend` collide.
      const key = formatAuthority(u);
      const first = seen.get(key);
      if (first !== undefined) r.problem(childPath(path, 'host'), `${quoted(key)} is already routed by ${first}`);
      else seen.set(key, path);
    }
    upstreams.push(u);
  });
  const tokenExchange = tokenExchangeSection(r, m);
  if (tokenExchange === null) {
    upstreams.forEach((u, i) => {
      if (u.token.mode === 'exchange') r.problem(childPath(itemPath(listPath, i), 'token'), 'mode exchange needs outbound.tokenExchange (the authorization server to exchange at)');
      if (u.token.obtain === true) r.problem(childPath(itemPath(listPath, i), 'token'), 'txn with obtain needs outbound.tokenExchange (the transaction token service)');
    });
    if (transparent?.token.mode === 'exchange') r.problem('outbound.transparent.token', 'mode exchange needs outbound.tokenExchange (the authorization server to exchange at)');
  }
  if (upstreams.length === 0 && transparent === null && !r.problems.some((p) => p.path.startsWith(listPath))) {
    r.warn('outbound has no upstreams: every outbound request will be refused');
  }
  if (transparent !== null && listen !== NO_ADDRESS && !['127.0.0.1', '0.0.0.0', '::'].includes(listen.host)) {
    // iptables REDIRECT in the nat OUTPUT chain rewrites the destination to 127.0.0.1.
    r.warn(`outbound.listen ${formatAddress(listen)}: transparent mode receives redirected connections on 127.0.0.1:${listen.port}, which this listener does not cover`);
  }
  return { listen, upstreams, transparent, tokenExchange };
}

function tunnel(r: ConfigReader, raw: unknown, path: string): TcpTunnel | undefined {
  const m = r.mapping(raw, path, TCP_KEYS);
  if (m === undefined) return undefined;
  let name = '';
  if (!r.has(m, 'name')) r.problem(childPath(path, 'name'), 'is required, e.g. postgres-in');
  else name = r.read(m, 'name', path, nonEmptyString, '');
  if (name !== '' && !TUNNEL_NAME.test(name)) {
    r.problem(childPath(path, 'name'), `${quoted(name)}: must be lowercase letters, digits and dashes (at most 63), as it appears in logs`);
  }
  if (!r.has(m, 'direction')) {
    r.problem(childPath(path, 'direction'), 'is required: inbound or outbound');
    return undefined;
  }
  const dir = r.read(m, 'direction', path, direction, undefined);
  if (dir === undefined) return undefined;
  const allowed: readonly string[] = dir === 'inbound' ? TCP_INBOUND_KEYS : TCP_OUTBOUND_KEYS;
  for (const key of Object.keys(m)) {
    if (TCP_KEYS.includes(key) && !allowed.includes(key)) {
      r.problem(childPath(path, key), `applies only to ${dir === 'inbound' ? 'outbound' : 'inbound'} tunnels`);
    }
  }
  const listen = requiredAddress(r, m, 'listen', path, dir === 'inbound' ? '0.0.0.0:15432' : '127.0.0.1:5433');
  if (dir === 'inbound') {
    const target = requiredAddress(r, m, 'target', path, '127.0.0.1:5432');
    warnIfNotLoopback(r, target, childPath(path, 'target'), PLAINTEXT_TO_APP);
    const file = r.read(m, 'policyFile', path, nonEmptyString, undefined);
    return { name, direction: dir, listen, target, policy: policyFrom(file) };
  }
  warnIfNotLoopback(r, listen, childPath(path, 'listen'), OPEN_EGRESS);
  const address = requiredAddress(r, m, 'address', path, "10.0.0.6:15432 (the peer sidecar's tunnel listener)");
  return { name, direction: dir, listen, address, server: readPeerIdMatch(r, m, path) };
}

/** Reads `tcp:`, the list of raw mTLS tunnels; names must be unique. */
export function tcpSection(r: ConfigReader, root: Mapping | undefined): TcpTunnel[] {
  const tunnels: TcpTunnel[] = [];
  const seen = new Map<string, string>();
  (r.list(root, 'tcp', '') ?? []).forEach((raw, i) => {
    const path = itemPath('tcp', i);
    const t = tunnel(r, raw, path);
    if (t === undefined) return;
    if (t.name !== '') {
      const first = seen.get(t.name);
      if (first !== undefined) r.problem(childPath(path, 'name'), `${quoted(t.name)} is already used by ${first}`);
      else seen.set(t.name, path);
    }
    tunnels.push(t);
  });
  return tunnels;
}
