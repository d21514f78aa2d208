import { NO_ADDRESS, formatAddress, isLoopbackHost, parseAddress, parseHostMatch, type Address } from './address.ts';
import type { InboundConfig, OutboundConfig, PolicySource, TcpTunnel, Upstream } from './config.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { ENV_APP_ADDRESS, ENV_APP_PROTOCOL, ENV_INBOUND_LISTEN, ENV_OUTBOUND_LISTEN, ENV_POLICY_FILE } from './config-env.ts';
import { nonEmptyString, oneOf } from './field-parsers.ts';
import { quoted } from './parsed.ts';
import { SERVER_MATCH_KEYS, readPeerIdMatch } from './peer-id-match.ts';

/** Default listener addresses (the Istio-style ports operators already know). */
export const DEFAULT_INBOUND_LISTEN: Address = Object.freeze({ host: '0.0.0.0', port: 15006 });
/** Loopback by default: the outbound listener sends with this workload's identity. */
export const DEFAULT_OUTBOUND_LISTEN: Address = Object.freeze({ host: '127.0.0.1', port: 15001 });

const INBOUND_KEYS = ['listen', 'app', 'appProtocol', 'policyFile'] as const;
const INBOUND_ENV = [ENV_INBOUND_LISTEN, ENV_APP_ADDRESS, ENV_APP_PROTOCOL, ENV_POLICY_FILE] as const;
const OUTBOUND_KEYS = ['listen', 'upstreams'] as const;
const UPSTREAM_KEYS = ['host', 'address', 'protocol', ...SERVER_MATCH_KEYS] as const;
const TCP_INBOUND_KEYS = ['name', 'direction', 'listen', 'target', 'policyFile'] as const;
const TCP_OUTBOUND_KEYS = ['name', 'direction', 'listen', 'address', ...SERVER_MATCH_KEYS] as const;
const TCP_KEYS: readonly string[] = [...new Set<string>([...TCP_INBOUND_KEYS, ...TCP_OUTBOUND_KEYS])];
const TUNNEL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const appProtocol = oneOf(['http1', 'h2c'] as const);
const upstreamProtocol = oneOf(['http1', 'h2'] as const);
const direction = oneOf(['inbound', 'outbound'] as const);

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
  return { listen, app, appProtocol: protocol, policy: policyFrom(file) };
}

function upstream(r: ConfigReader, raw: unknown, path: string): Upstream | undefined {
  const m = r.mapping(raw, path, UPSTREAM_KEYS);
  if (m === undefined) return undefined;
  let match = { host: '', port: null as number | null };
  if (!r.has(m, 'host')) r.problem(childPath(path, 'host'), 'is required: the host name the app calls, e.g. backend or backend:8080');
  else match = r.read(m, 'host', path, parseHostMatch, match);
  const address = requiredAddress(r, m, 'address', path, "10.0.0.5:15006 (the peer sidecar's inbound listener)");
  const server = readPeerIdMatch(r, m, path);
  const protocol = r.read(m, 'protocol', path, upstreamProtocol, 'http1');
  return { host: match.host, port: match.port, address, server, protocol };
}

/** Reads `outbound:`; enabled when the file has the section or the outbound env var is set. */
export function outboundSection(r: ConfigReader, root: Mapping | undefined): OutboundConfig | null {
  if (!r.has(root, 'outbound') && r.env(ENV_OUTBOUND_LISTEN) === undefined) return null;
  const m = r.section(root, 'outbound', '', OUTBOUND_KEYS);
  if (r.has(root, 'outbound') && m === undefined) return null;

  const fileListen = r.read(m, 'listen', 'outbound', parseAddress, DEFAULT_OUTBOUND_LISTEN, NO_ADDRESS);
  const listen = r.override(fileListen, ENV_OUTBOUND_LISTEN, parseAddress, NO_ADDRESS);
  warnIfNotLoopback(r, listen, 'outbound.listen', OPEN_EGRESS);

  const upstreams: Upstream[] = [];
  const seen = new Map<string, string>();
  const listPath = 'outbound.upstreams';
  (r.list(m, 'upstreams', 'outbound') ?? []).forEach((raw, i) => {
    const path = itemPath(listPath, i);
    const u = upstream(r, raw, path);
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
  if (upstreams.length === 0 && !r.problems.some((p) => p.path.startsWith(listPath))) {
    r.warn('outbound has no upstreams: every outbound request will be refused');
  }
  return { listen, upstreams };
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
