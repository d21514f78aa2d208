import { isIP } from 'node:net';
import { WorkloadApiError } from './workload-api-error.ts';

/** The environment variable conforming clients fall back to (Workload Endpoint spec §4). */
export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

/** A validated Workload API endpoint and the grpc-js target string that dials it. */
export type EndpointAddress =
  | { readonly kind: 'unix'; readonly path: string; readonly target: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly target: string };

function bad(uri: string, problem: string, cause?: unknown): WorkloadApiError {
  return new WorkloadApiError('workload.bad_address', `invalid workload endpoint address ${JSON.stringify(uri)}: ${problem}`, {
    cause,
  });
}

/**
 * Parses a Workload API endpoint URI (`unix:///abs/path` or `tcp://IP:port`)
 * and rejects every form the Workload Endpoint spec §4 forbids.
 *
 * grpc-js silently drops a unix URI's authority (`unix://host/p` dials `p`),
 * so the checks must happen here, before grpc-js sees the string.
 */
export function parseEndpointAddress(uri: string): EndpointAddress {
  if (uri.trim() === '') throw bad(uri, 'address is empty');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(uri);
  if (!m) throw bad(uri, 'missing scheme; use unix:///path/to/socket or tcp://IP:port');
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'unix') return parseUnix(uri, rest);
  if (scheme === 'tcp') return parseTcp(uri, rest);
  throw bad(uri, `scheme must be "unix" or "tcp", not ${JSON.stringify(m[1])}`);
}

function checkQueryFragment(uri: string, rest: string): void {
  if (rest.includes('?')) throw bad(uri, 'a query is not allowed');
  if (rest.includes('#')) throw bad(uri, 'a fragment is not allowed');
}

function decodePath(uri: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (err) {
    throw bad(uri, 'the path has an invalid percent-encoding', err);
  }
}

function parseUnix(uri: string, rest: string): EndpointAddress {
  checkQueryFragment(uri, rest);
  let rawPath: string;
  if (rest.startsWith('//')) {
    const afterSlashes = rest.slice(2);
    const slash = afterSlashes.indexOf('/');
    const authority = slash === -1 ? afterSlashes : afterSlashes.slice(0, slash);
    if (authority.includes('@')) throw bad(uri, 'userinfo is not allowed');
    // Spec §4: a unix URI has no authority. go-spiffe accepts `unix://foo`, but
    // grpc-js would then dial a different path than the one the user wrote.
    if (authority !== '') throw bad(uri, `an authority (${JSON.stringify(authority)}) is not allowed; write unix:///absolute/path`);
    rawPath = slash === -1 ? '' : afterSlashes.slice(slash);
  } else {
    rawPath = rest;
  }
  if (rawPath === '' || rawPath === '/') throw bad(uri, 'the socket path is empty');
  if (!rawPath.startsWith('/')) throw bad(uri, 'the socket path must be absolute (unix:///path), not relative');
  const path = decodePath(uri, rawPath);
  if (path.includes('\0')) throw bad(uri, 'the socket path contains a NUL byte');
  // `unix://` + absolute path: grpc-js reads an empty authority and keeps the
  // whole path, including paths that themselves start with `//`.
  return { kind: 'unix', path, target: `unix://${path}` };
}

function parseTcp(uri: string, rest: string): EndpointAddress {
  if (!rest.startsWith('//')) throw bad(uri, 'expected tcp://IP:port');
  checkQueryFragment(uri, rest);
  const hostPort = rest.slice(2);
  const slash = hostPort.indexOf('/');
  if (slash !== -1) throw bad(uri, 'a path is not allowed after IP:port');
  if (hostPort.includes('@')) throw bad(uri, 'userinfo is not allowed');
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    if (end === -1) throw bad(uri, 'unterminated IPv6 literal');
    host = hostPort.slice(1, end);
    const after = hostPort.slice(end + 1);
    if (after !== '' && !after.startsWith(':')) throw bad(uri, 'unexpected text after the IPv6 literal');
    portText = after === '' ? undefined : after.slice(1);
    if (isIP(host) !== 6) throw bad(uri, `${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = hostPort.lastIndexOf(':');
    host = colon === -1 ? hostPort : hostPort.slice(0, colon);
    portText = colon === -1 ? undefined : hostPort.slice(colon + 1);
    if (host === '') throw bad(uri, 'the host is missing');
    if (host.includes(':')) throw bad(uri, 'an IPv6 address must be in brackets: tcp://[::1]:port');
    // Spec §4: the host must be an IP address; resolving names would let DNS
    // decide where workloads send their identity requests.
    if (isIP(host) !== 4) throw bad(uri, `host ${JSON.stringify(host)} is not an IP address (DNS names are not allowed)`);
  }
  if (portText === undefined || portText === '') throw bad(uri, 'a port is required');
  if (!/^\d{1,5}$/.test(portText)) throw bad(uri, `port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad(uri, `port ${port} is out of range 1-65535`);
  const target = isIP(host) === 6 ? `ipv6:[${host}]:${port}` : `ipv4:${host}:${port}`;
  return { kind: 'tcp', host, port, target };
}

/**
 * Reads the endpoint from `SPIFFE_ENDPOINT_SOCKET` in `env` and parses it.
 * An unset or empty variable is a 'workload.no_address' error.
 */
export function endpointFromEnv(env: Readonly<Record<string, string | undefined>>): EndpointAddress {
  const value = env[SPIFFE_ENDPOINT_SOCKET];
  if (value === undefined || value === '') {
    throw new WorkloadApiError(
      'workload.no_address',
      `workload endpoint socket address is not configured: pass an address or set ${SPIFFE_ENDPOINT_SOCKET} (e.g. unix:///run/spire/sockets/agent.sock)`,
    );
  }
  return parseEndpointAddress(value);
}

/** Resolves an explicit address if given (it wins, spec §4), else the environment variable. */
export function resolveEndpoint(address: string | undefined, env: Readonly<Record<string, string | undefined>>): EndpointAddress {
  return address !== undefined ? parseEndpointAddress(address) : endpointFromEnv(env);
}
