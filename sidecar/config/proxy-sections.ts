import { NO_ADDRESS, formatAddress, isLoopbackHost, parseAddress, parseHostMatch, type Address } from './address.ts';
import type { InboundAppPort, InboundConfig, OutboundConfig, PeerIdMatch, PolicySource, TcpTunnel, TransparentOutbound, Upstream } from './config.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { ENV_APP_ADDRESS, ENV_APP_PROTOCOL, ENV_INBOUND_LISTEN, ENV_OUTBOUND_LISTEN, ENV_POLICY_FILE, ENV_TRANSPARENT } from './config-env.ts';
import { envBoolean, integerIn, nonEmptyString, oneOf, yamlBoolean } from './field-parsers.ts';
import { quoted } from './parsed.ts';
import { SERVER_MATCH_KEYS, readPeerIdMatch } from './peer-id-match.ts';

/** Default listener addresses (the Istio-style ports operators already know). */
export const DEFAULT_INBOUND_LISTEN: Address = Object.freeze({ host: '0.0.0.0', port: 15006 });
/** Loopback by default: the outbound listener sends with this workload's identity. */
export const DEFAULT_OUTBOUND_LISTEN: Address = Object.freeze({ host: '127.0.0.1', port: 15001 });

const INBOUND_KEYS = ['listen', 'app', 'appProtocol', 'appPorts', 'policyFile', 'webSocket'] as const;
const APP_PORT_KEYS = ['port', 'app', 'appProtocol'] as const;
const INBOUND_ENV = [ENV_INBOUND_LISTEN, ENV_APP_ADDRESS, ENV_APP_PROTOCOL, ENV_POLICY_FILE] as const;
const OUTBOUND_KEYS = ['listen', 'upstreams', 'transparent'] as const;
const TRANSPARENT_KEYS = ['enabled', 'ports', 'webSocket', ...SERVER_MATCH_KEYS] as const;
const UPSTREAM_KEYS = ['host', 'address', 'protocol', 'webSocket', ...SERVER_MATCH_KEYS] as const;
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
  return { listen, app, appProtocol: protocol, appPorts: appPorts(r, m), policy: policyFrom(file), webSocket };
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
function upstream(r: ConfigReader, raw: unknown, path: string, transparent: boolean): Upstream | undefined {
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
  return { host: match.host, port: match.port, address, server, protocol, webSocket };
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
  if (t !== undefined) {
    webSocket = r.read(t, 'webSocket', path, yamlBoolean, false);
    if (!r.has(t, 'enabled')) r.problem(childPath(path, 'enabled'), 'is required: true or false');
    else enabled = r.read(t, 'enabled', path, yamlBoolean, false);
    if (SERVER_MATCH_KEYS.some((k) => r.has(t, k))) server = readPeerIdMatch(r, t, path);
    ports = portList(r, t, 'ports', path) ?? null;
  }
  enabled = r.override(enabled, ENV_TRANSPARENT, envBoolean, false);
  return enabled ? { server, ports, webSocket } : null;
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
  warnIfNotLoopback(r, listen, 'outbound.listen', OPEN_EGRESS);

  const transparent = transparentSection(r, m);
  const upstreams: Upstream[] = [];
  const seen = new Map<string, string>();
  const listPath = 'outbound.upstreams';
  (r.list(m, 'upstreams', 'outbound') ?? []).forEach((raw, i) => {
    const path = itemPath(listPath, i);
    const u = upstream(r, raw, path, transparent !== null);
    if (u === undefined) return;
    if (u.host !== '') {
      // Host names are case-insensitive, so `Backend` and `backend` collide.
      const key = u.port === null ? u.host : `${u.host}:${u.port}`;
      const first = seen.get(key);
      if (first !== undefined) r.problem(childPath(path, 'host'), `${quoted(key)} is already routed by ${first}`);
      else seen.set(key, path);
    }
    upstreams.push(u);
  });
  if (upstreams.length === 0 && transparent === null && !r.problems.some((p) => p.path.startsWith(listPath))) {
    r.warn('outbound has no upstreams: every outbound request will be refused');
  }
  if (transparent !== null && listen !== NO_ADDRESS && !['127.0.0.1', '0.0.0.0'].includes(listen.host)) {
    // iptables REDIRECT in the nat OUTPUT chain rewrites the destination to 127.0.0.1.
    r.warn(`outbound.listen ${formatAddress(listen)}: transparent mode receives redirected connections on 127.0.0.1:${listen.port}, which this listener does not cover`);
  }
  return { listen, upstreams, transparent };
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
