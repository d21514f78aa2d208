import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, type Config } from '../../../sidecar/config/index.ts';
import { assertProblems, type Env } from './config-problems.ts';

type Doc = Record<string, unknown>;

const SOCKET = 'unix:///run/spire/sockets/agent.sock';
/** The smallest valid document; rows add to it. */
const base = (extra: Doc = {}): Doc => ({ spiffe: { endpointSocket: SOCKET }, ...extra });
const inbound = (extra: Doc = {}): Doc => base({ inbound: { app: '127.0.0.1:8080', ...extra } });
const upstream = (extra: Doc = {}): Doc => ({ host: 'backend', address: '10.0.0.5:15006', serverId: 'spiffe://example.org/backend', ...extra });
const outbound = (...ups: Doc[]): Doc => base({ outbound: { upstreams: ups } });
const tcpIn = (extra: Doc = {}): Doc => ({ name: 'pg-in', direction: 'inbound', listen: '0.0.0.0:15432', target: '127.0.0.1:5432', ...extra });
const tcpOut = (extra: Doc = {}): Doc => ({
  name: 'pg-out',
  direction: 'outbound',
  listen: '127.0.0.1:5433',
  address: '10.0.0.6:15432',
  serverId: 'spiffe://example.org/db',
  ...extra,
});

/** outbound.transparent when enabled with nothing else set (docs/config.md). */
const TRANSPARENT_DEFAULTS = {
  server: null,
  ports: null,
  webSocket: false,
  token: { mode: 'none', audience: null, scope: null },
  meshCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  opaquePorts: [25, 587, 3306, 4444, 5432, 6379, 9300, 11211],
  detectTimeoutMs: 1000,
  egress: [],
};

interface BadRow {
  name: string;
  input: unknown;
  env?: Env;
  /** Exactly these problems, by path, each message matching its pattern. */
  problems: [path: string, message: RegExp][];
}

const bad: BadRow[] = [
  // document
  { name: 'document must be a mapping', input: ['a'], problems: [['(document)', /must be a mapping, got a list/]] },
  { name: 'unknown top-level key, with suggestion', input: base({ inbund: {} }), problems: [['inbund', /unknown key \(did you mean "inbound"\?\)/]] },
  { name: 'unknown key without a close match', input: base({ zzz: 1 }), problems: [['zzz', /^unknown key$/]] },
  { name: 'section must be a mapping', input: base({ limits: [1] }), problems: [['limits', /must be a mapping, got a list/]] },
  { name: 'empty value (null) is not "use the default"', input: base({ log: { level: null } }), problems: [['log.level', /has no value/]] },
  { name: 'null section is a problem, not "disabled"', input: base({ inbound: null }), problems: [['inbound', /has no value/]] },
  { name: 'log.audit must be on or off', input: base({ log: { audit: 'maybe' } }), problems: [['log.audit', /maybe/]] },
  { name: 'log.auditDenyBurst must be positive', input: base({ log: { auditDenyBurst: 0 } }), problems: [['log.auditDenyBurst', /./]] },
  {
    name: 'auth without a provider',
    input: base({ inbound: { app: '127.0.0.1:8080' }, auth: { forwardToken: true } }),
    problems: [['auth', /configures no provider/]],
  },
  {
    name: 'auth.jwt provider: missing audiences and two key sources',
    input: base({ inbound: { app: '127.0.0.1:8080' }, auth: { jwt: [{ name: 'corp', issuer: 'https://idp.example', jwksUri: 'https://idp.example/jwks', discovery: true }] } }),
    problems: [['auth.jwt[0].audiences', /is required/]],
  },
  {
    name: 'auth.introspection: a literal secret is not accepted, only a file',
    input: base({
      inbound: { app: '127.0.0.1:8080' },
      auth: { introspection: { name: 'edge', endpoint: 'https://as.example/introspect', clientAuth: { method: 'client_secret_basic', clientId: 'sc', clientSecret: 'x' } } },
    }),
    problems: [['auth.introspection.clientAuth.clientSecret', /unknown key/], ['auth.introspection.clientAuth.clientSecretFile', /never the secret itself/]],
  },
  {
    name: 'auth.jwt: rules of the auth module, reported at document paths (alg none, skew range)',
    input: base({ inbound: { app: '127.0.0.1:8080' }, auth: { jwt: [{ name: 'corp', issuer: 'https://idp.example', audiences: ['a'], discovery: true, algorithms: ['none'], clockSkew: '10m' }] } }),
    problems: [['auth.jwt[0].algorithms[0]', /never accepted/], ['auth.jwt[0].clockSkew', /./]],
  },
  {
    name: 'token: exchange needs outbound.tokenExchange',
    input: base({ outbound: { upstreams: [{ host: 'b', address: '127.0.0.1:1', serverId: 'spiffe://td/b', token: 'exchange' }] } }),
    problems: [['outbound.upstreams[0].token', /needs outbound.tokenExchange/]],
  },
  {
    name: 'token: an unknown mode',
    input: base({ outbound: { upstreams: [{ host: 'b', address: '127.0.0.1:1', serverId: 'spiffe://td/b', token: 'steal' }] } }),
    problems: [['outbound.upstreams[0].token', /must be one of none \| forward \| jwt-svid \| exchange \| txn/]],
  },
  {
    name: 'token: jwt-svid to a trust domain needs an explicit audience',
    input: base({ outbound: { upstreams: [{ host: 'b', address: '127.0.0.1:1', serverTrustDomain: 'td', token: 'jwt-svid' }] } }),
    problems: [['outbound.upstreams[0].token.audience', /is required for jwt-svid/]],
  },
  {
    name: 'auth.contextHandle: maxEntries out of range',
    input: base({ inbound: { app: '127.0.0.1:8080' }, auth: { jwt: [{ name: 'c', issuer: 'https://i', audiences: ['a'], discovery: true }], contextHandle: { enabled: true, maxEntries: 0 } } }),
    problems: [['auth.contextHandle.maxEntries', /1-1000000/]],
  },
  { name: 'claimHeaders: a bad claim path', input: base({ headers: { claimHeaders: [{ claim: 'a..b', header: 'x-a' }] } }), problems: [['headers.claimHeaders[0].claim', /./]] },
  // spiffe
  { name: 'endpointSocket required from file or env', input: {}, problems: [['spiffe.endpointSocket', /is required.*SPIFFE_ENDPOINT_SOCKET/]] },
  { name: 'endpointSocket scheme', input: { spiffe: { endpointSocket: '/run/agent.sock' } }, problems: [['spiffe.endpointSocket', /"\/run\/agent.sock": must be a unix:\/\/\/path/]] },
  { name: 'endpointSocket type', input: { spiffe: { endpointSocket: 5 } }, problems: [['spiffe.endpointSocket', /must be a unix:\/\/ or tcp:\/\/ URI, got number/]] },
  { name: 'bad SPIFFE_ENDPOINT_SOCKET', input: {}, env: { SPIFFE_ENDPOINT_SOCKET: 'http://x' }, problems: [['env SPIFFE_ENDPOINT_SOCKET', /must be a unix/]] },
  { name: 'svidHint type', input: base({ spiffe: { endpointSocket: SOCKET, svidHint: 3 } }), problems: [['spiffe.svidHint', /must be a string/]] },
  { name: 'trustDomain syntax', input: base({ spiffe: { endpointSocket: SOCKET, trustDomain: 'Example.org' } }), problems: [['spiffe.trustDomain', /trust domain characters/]] },
  { name: 'spiffe unknown key', input: { spiffe: { endpointSocket: SOCKET, socket: 'x' } }, problems: [['spiffe.socket', /unknown key/]] },
  // inbound
  { name: 'inbound.app required', input: base({ inbound: {} }), problems: [['inbound.app', /is required.*SPIFFE_SIDECAR_APP_ADDRESS/]] },
  { name: 'inbound.listen port range (brief example)', input: inbound({ listen: '0.0.0.0:99999' }), problems: [['inbound.listen', /^"0\.0\.0\.0:99999": port must be 1-65535$/]] },
  { name: 'inbound.listen port 0', input: inbound({ listen: '0.0.0.0:0' }), problems: [['inbound.listen', /port must be 1-65535/]] },
  { name: 'inbound.app missing port', input: inbound({ app: '127.0.0.1' }), problems: [['inbound.app', /missing ":port"/]] },
  { name: 'inbound.app not a string', input: inbound({ app: 8080 }), problems: [['inbound.app', /must be "host:port", got number/]] },
  { name: 'unbracketed IPv6', input: inbound({ app: '::1:8080' }), problems: [['inbound.app', /IPv6 addresses must be in brackets/]] },
  { name: 'bracketed non-IPv6', input: inbound({ app: '[localhost]:8080' }), problems: [['inbound.app', /is not an IPv6 address/]] },
  { name: 'empty host', input: inbound({ listen: ':15006' }), problems: [['inbound.listen', /host is missing/]] },
  { name: 'bad IPv4', input: inbound({ app: '127.0.0.256:80' }), problems: [['inbound.app', /not a valid IPv4 address/]] },
  { name: 'bad host name', input: inbound({ app: 'my_app:80' }), problems: [['inbound.app', /must be an IP address or a DNS name/]] },
  { name: 'appProtocol enum', input: inbound({ appProtocol: 'http2' }), problems: [['inbound.appProtocol', /"http2": must be one of http1 \| h2c/]] },
  { name: 'policyFile not empty', input: inbound({ policyFile: ' ' }), problems: [['inbound.policyFile', /must not be empty/]] },
  { name: 'inbound typo', input: inbound({ polcyFile: '/p.yaml' }), problems: [['inbound.polcyFile', /did you mean "policyFile"/]] },
  { name: 'inbound must be a mapping', input: base({ inbound: 'on' }), problems: [['inbound', /must be a mapping/]] },
  { name: 'env INBOUND_LISTEN invalid', input: inbound(), env: { SPIFFE_SIDECAR_INBOUND_LISTEN: 'nope' }, problems: [['env SPIFFE_SIDECAR_INBOUND_LISTEN', /"nope": missing ":port"/]] },
  { name: 'env APP_ADDRESS invalid', input: inbound(), env: { SPIFFE_SIDECAR_APP_ADDRESS: '1.2.3.4:x' }, problems: [['env SPIFFE_SIDECAR_APP_ADDRESS', /port must be 1-65535/]] },
  { name: 'env APP_PROTOCOL invalid', input: inbound(), env: { SPIFFE_SIDECAR_APP_PROTOCOL: 'grpc' }, problems: [['env SPIFFE_SIDECAR_APP_PROTOCOL', /must be one of http1 \| h2c/]] },
  { name: 'env POLICY_FILE alone enables inbound, which then needs an app', input: base(), env: { SPIFFE_SIDECAR_POLICY_FILE: '/p.yaml' }, problems: [['inbound.app', /is required/]] },
  // outbound
  { name: 'upstreams must be a list', input: base({ outbound: { upstreams: { backend: {} } } }), problems: [['outbound.upstreams', /must be a list/]] },
  { name: 'upstream must be a mapping', input: outbound('backend' as unknown as Doc), problems: [['outbound.upstreams[0]', /must be a mapping/]] },
  { name: 'upstream host required', input: outbound(upstream({ host: undefined })), problems: [['outbound.upstreams[0].host', /is required/]] },
  { name: 'upstream host syntax', input: outbound(upstream({ host: 'back end' })), problems: [['outbound.upstreams[0].host', /must be an IP address or a DNS name/]] },
  { name: 'upstream host port', input: outbound(upstream({ host: 'backend:0' })), problems: [['outbound.upstreams[0].host', /port must be 1-65535/]] },
  { name: 'upstream address required', input: outbound(upstream({ address: undefined })), problems: [['outbound.upstreams[0].address', /is required/]] },
  { name: 'upstream address syntax', input: outbound(upstream({ address: '10.0.0.5' })), problems: [['outbound.upstreams[0].address', /missing ":port"/]] },
  { name: 'upstream protocol enum', input: outbound(upstream({ protocol: 'h2c' })), problems: [['outbound.upstreams[0].protocol', /must be one of http1 \| h2/]] },
  { name: 'upstream unknown key', input: outbound(upstream({ serverID: 'spiffe://a/b' })), problems: [['outbound.upstreams[0].serverID', /did you mean "serverId"/]] },
  {
    name: 'duplicate upstream hosts, case-insensitive',
    input: outbound(upstream(), upstream({ host: 'Backend' })),
    problems: [['outbound.upstreams[1].host', /"backend" is already routed by outbound.upstreams\[0\]/]],
  },
  {
    name: 'duplicate upstream host:port',
    input: outbound(upstream({ host: 'backend:8080' }), upstream({ host: 'BACKEND:8080' })),
    problems: [['outbound.upstreams[1].host', /"backend:8080" is already routed/]],
  },
  { name: 'server identity required', input: outbound(upstream({ serverId: undefined })), problems: [['outbound.upstreams[0]', /needs exactly one of serverId, serverIds or serverTrustDomain/]] },
  {
    name: 'serverId and serverTrustDomain together',
    input: outbound(upstream({ serverTrustDomain: 'example.org' })),
    problems: [['outbound.upstreams[0]', /set only one of .*not serverId and serverTrustDomain/]],
  },
  {
    name: 'serverId and serverIds together',
    input: outbound(upstream({ serverIds: ['spiffe://example.org/a'] })),
    problems: [['outbound.upstreams[0]', /not serverId and serverIds/]],
  },
  { name: 'serverId syntax', input: outbound(upstream({ serverId: 'spiffe://example.org/a/' })), problems: [['outbound.upstreams[0].serverId', /path cannot end with a slash/]] },
  { name: 'serverId type', input: outbound(upstream({ serverId: ['spiffe://example.org/a'] })), problems: [['outbound.upstreams[0].serverId', /must be a SPIFFE ID string, got a list/]] },
  { name: 'serverIds empty', input: outbound(upstream({ serverId: undefined, serverIds: [] })), problems: [['outbound.upstreams[0].serverIds', /at least one/]] },
  { name: 'serverIds not a list', input: outbound(upstream({ serverId: undefined, serverIds: 'spiffe://a/b' })), problems: [['outbound.upstreams[0].serverIds', /must be a list/]] },
  {
    name: 'serverIds item syntax',
    input: outbound(upstream({ serverId: undefined, serverIds: ['spiffe://example.org/a', 'http://example.org/b'] })),
    problems: [['outbound.upstreams[0].serverIds[1]', /scheme must be exactly "spiffe:\/\/"/]],
  },
  {
    name: 'serverIds duplicate',
    input: outbound(upstream({ serverId: undefined, serverIds: ['spiffe://example.org/a', 'spiffe://example.org/a'] })),
    problems: [['outbound.upstreams[0].serverIds[1]', /listed twice/]],
  },
  { name: 'serverTrustDomain syntax', input: outbound(upstream({ serverId: undefined, serverTrustDomain: 'ex ample' })), problems: [['outbound.upstreams[0].serverTrustDomain', /trust domain characters/]] },
  { name: 'env OUTBOUND_LISTEN invalid', input: outbound(upstream()), env: { SPIFFE_SIDECAR_OUTBOUND_LISTEN: '127.0.0.1:70000' }, problems: [['env SPIFFE_SIDECAR_OUTBOUND_LISTEN', /port must be 1-65535/]] },
  // inbound.appPorts
  { name: 'appPorts must be a list', input: inbound({ appPorts: { 9090: '127.0.0.1:9090' } }), problems: [['inbound.appPorts', /must be a list/]] },
  { name: 'appPorts entry must be a mapping', input: inbound({ appPorts: [9090] }), problems: [['inbound.appPorts[0]', /must be a mapping/]] },
  { name: 'appPorts port required', input: inbound({ appPorts: [{ app: '127.0.0.1:9090' }] }), problems: [['inbound.appPorts[0].port', /is required/]] },
  { name: 'appPorts port range', input: inbound({ appPorts: [{ port: 70000, app: '127.0.0.1:9090' }] }), problems: [['inbound.appPorts[0].port', /must be an integer 1-65535/]] },
  { name: 'appPorts port is a number, not a string', input: inbound({ appPorts: [{ port: '9090', app: '127.0.0.1:9090' }] }), problems: [['inbound.appPorts[0].port', /got string/]] },
  { name: 'appPorts app required', input: inbound({ appPorts: [{ port: 9090 }] }), problems: [['inbound.appPorts[0].app', /is required/]] },
  { name: 'appPorts appProtocol enum', input: inbound({ appPorts: [{ port: 9090, app: '127.0.0.1:9090', appProtocol: 'grpc' }] }), problems: [['inbound.appPorts[0].appProtocol', /must be one of http1 \| h2c/]] },
  {
    name: 'appPorts ports unique',
    input: inbound({ appPorts: [{ port: 9090, app: '127.0.0.1:9090' }, { port: 9090, app: '127.0.0.1:9091' }] }),
    problems: [['inbound.appPorts[1].port', /9090 is already routed by inbound.appPorts\[0\]/]],
  },
  { name: 'appPorts unknown key', input: inbound({ appPorts: [{ port: 9090, target: '127.0.0.1:9090' }] }), problems: [['inbound.appPorts[0].target', /unknown key/], ['inbound.appPorts[0].app', /is required/]] },
  { name: 'appPorts app pointing at our own listener loops', input: inbound({ appPorts: [{ port: 9090, app: '127.0.0.1:15020' }] }), problems: [['inbound.appPorts[0].app', /own admin\.listen: traffic would loop/]] },
  // outbound.transparent
  { name: 'transparent must be a mapping', input: base({ outbound: { transparent: true } }), problems: [['outbound.transparent', /must be a mapping, got boolean/]] },
  { name: 'transparent.enabled required', input: base({ outbound: { transparent: { ports: [80] } } }), problems: [['outbound.transparent.enabled', /is required: true or false/]] },
  { name: 'transparent.enabled boolean', input: base({ outbound: { transparent: { enabled: 'yes' } } }), problems: [['outbound.transparent.enabled', /must be true or false/]] },
  { name: 'transparent unknown key', input: base({ outbound: { transparent: { enabled: true, defaultServer: 'x' } } }), problems: [['outbound.transparent.defaultServer', /unknown key/]] },
  {
    name: 'transparent: one server expectation at most',
    input: base({ outbound: { transparent: { enabled: true, serverId: 'spiffe://example.org/a', serverTrustDomain: 'example.org' } } }),
    problems: [['outbound.transparent', /set only one of .*not serverId and serverTrustDomain/]],
  },
  { name: 'transparent serverTrustDomain syntax', input: base({ outbound: { transparent: { enabled: true, serverTrustDomain: 'Example.org' } } }), problems: [['outbound.transparent.serverTrustDomain', /trust domain characters/]] },
  { name: 'transparent ports must be a list', input: base({ outbound: { transparent: { enabled: true, ports: 80 } } }), problems: [['outbound.transparent.ports', /must be a list/]] },
  { name: 'transparent ports not empty', input: base({ outbound: { transparent: { enabled: true, ports: [] } } }), problems: [['outbound.transparent.ports', /at least one port/]] },
  { name: 'transparent ports range', input: base({ outbound: { transparent: { enabled: true, ports: [80, 0] } } }), problems: [['outbound.transparent.ports[1]', /must be an integer 1-65535/]] },
  { name: 'transparent ports unique', input: base({ outbound: { transparent: { enabled: true, ports: [80, 80] } } }), problems: [['outbound.transparent.ports[1]', /listed twice/]] },
  {
    name: 'upstream address still required without transparent mode',
    input: base({ outbound: { upstreams: [upstream({ address: undefined })], transparent: { enabled: false } } }),
    problems: [['outbound.upstreams[0].address', /is required.*optional in transparent mode/]],
  },
  { name: 'env TRANSPARENT invalid', input: base({ outbound: {} }), env: { SPIFFE_SIDECAR_TRANSPARENT: 'yes' }, problems: [['env SPIFFE_SIDECAR_TRANSPARENT', /must be true, false, 1 or 0/]] },
  { name: 'env TRANSPARENT invalid without an outbound section', input: base(), env: { SPIFFE_SIDECAR_TRANSPARENT: 'on' }, problems: [['env SPIFFE_SIDECAR_TRANSPARENT', /must be true, false, 1 or 0/]] },
  // tcp
  { name: 'tcp must be a list', input: base({ tcp: tcpIn() }), problems: [['tcp', /must be a list/]] },
  { name: 'tcp name required', input: base({ tcp: [tcpIn({ name: undefined })] }), problems: [['tcp[0].name', /is required/]] },
  { name: 'tcp name syntax', input: base({ tcp: [tcpIn({ name: 'PG In' })] }), problems: [['tcp[0].name', /lowercase letters, digits and dashes/]] },
  { name: 'tcp names unique', input: base({ tcp: [tcpIn(), tcpIn({ listen: '0.0.0.0:15433' })] }), problems: [['tcp[1].name', /"pg-in" is already used by tcp\[0\]/]] },
  { name: 'tcp direction required', input: base({ tcp: [tcpIn({ direction: undefined })] }), problems: [['tcp[0].direction', /is required: inbound or outbound/]] },
  { name: 'tcp direction enum', input: base({ tcp: [tcpIn({ direction: 'both' })] }), problems: [['tcp[0].direction', /must be one of inbound \| outbound/]] },
  { name: 'tcp listen required', input: base({ tcp: [tcpIn({ listen: undefined })] }), problems: [['tcp[0].listen', /is required/]] },
  { name: 'tcp inbound target required', input: base({ tcp: [tcpIn({ target: undefined })] }), problems: [['tcp[0].target', /is required/]] },
  { name: 'tcp outbound address required', input: base({ tcp: [tcpOut({ address: undefined })] }), problems: [['tcp[0].address', /is required/]] },
  { name: 'tcp outbound needs a server identity', input: base({ tcp: [tcpOut({ serverId: undefined })] }), problems: [['tcp[0]', /needs exactly one of serverId/]] },
  { name: 'tcp inbound refuses outbound keys', input: base({ tcp: [tcpIn({ serverId: 'spiffe://example.org/x' })] }), problems: [['tcp[0].serverId', /applies only to outbound tunnels/]] },
  { name: 'tcp outbound refuses inbound keys', input: base({ tcp: [tcpOut({ target: '127.0.0.1:1' })] }), problems: [['tcp[0].target', /applies only to inbound tunnels/]] },
  { name: 'tcp unknown key', input: base({ tcp: [tcpIn({ port: 1 })] }), problems: [['tcp[0].port', /unknown key/]] },
  // sockets
  {
    name: 'two listeners on one address',
    input: { ...inbound(), outbound: { listen: '0.0.0.0:15006', upstreams: [upstream()] } },
    problems: [['outbound.listen', /overlaps inbound\.listen/]],
  },
  {
    name: 'a wildcard listener overlaps a specific one on the same port',
    input: inbound({ listen: '127.0.0.1:15020' }),
    problems: [['admin.listen', /0\.0\.0\.0:15020 overlaps inbound\.listen \(127\.0\.0\.1:15020\)/]],
  },
  { name: 'inbound.app pointing at our own listener loops', input: inbound({ app: '127.0.0.1:15006' }), problems: [['inbound.app', /sidecar's own inbound\.listen: traffic would loop/]] },
  { name: 'tcp target pointing at our own listener loops', input: base({ tcp: [tcpIn({ target: '127.0.0.1:15020' })] }), problems: [['tcp[0].target', /own admin\.listen/]] },
  {
    name: 'an invalid listener is reported once, not again as an overlap',
    input: { ...inbound({ listen: '0.0.0.0:99999' }), tcp: [tcpIn({ listen: '0.0.0.0:15006' })] },
    problems: [['inbound.listen', /port must be 1-65535/]],
  },
  // headers
  { name: 'header name type', input: base({ headers: { spiffeId: 1 } }), problems: [['headers.spiffeId', /must be a header name, got number/]] },
  { name: 'header name syntax (rule of the headers module)', input: base({ headers: { spiffeId: 'x client id' } }), problems: [['headers', /spiffeIdHeader "x client id": use 1-64 lowercase/]] },
  { name: 'header name reserved (rule of the headers module)', input: base({ headers: { xfcc: 'Host' } }), problems: [['headers', /xfccHeader "host": is a standard HTTP header/]] },
  { name: 'header names differ', input: base({ headers: { spiffeId: 'X-Id', xfcc: 'x-id' } }), problems: [['headers', /must differ/]] },
  // admin
  { name: 'admin.listen syntax', input: base({ admin: { listen: 'localhost' } }), problems: [['admin.listen', /missing ":port"/]] },
  { name: 'env ADMIN_LISTEN invalid', input: base(), env: { SPIFFE_SIDECAR_ADMIN_LISTEN: '[::1]15020' }, problems: [['env SPIFFE_SIDECAR_ADMIN_LISTEN', /expected ":port" after "\]"/]] },
  // limits
  { name: 'maxHeaderBytes minimum', input: base({ limits: { maxHeaderBytes: 1023 } }), problems: [['limits.maxHeaderBytes', /must be an integer 1024-1048576/]] },
  { name: 'maxHeaderBytes integer', input: base({ limits: { maxHeaderBytes: 2048.5 } }), problems: [['limits.maxHeaderBytes', /must be an integer/]] },
  { name: 'maxHeaderBytes type', input: base({ limits: { maxHeaderBytes: '16k' } }), problems: [['limits.maxHeaderBytes', /got string "16k"/]] },
  { name: 'maxConnections minimum', input: base({ limits: { maxConnections: 0 } }), problems: [['limits.maxConnections', /must be an integer 1-1000000/]] },
  { name: 'idleTimeout > 0', input: base({ limits: { idleTimeout: '0s' } }), problems: [['limits.idleTimeout', /must be greater than zero/]] },
  { name: 'headersTimeout > 0', input: base({ limits: { headersTimeout: 0 } }), problems: [['limits.headersTimeout', /must be greater than zero/]] },
  { name: 'connectTimeout syntax', input: base({ limits: { connectTimeout: '5 seconds' } }), problems: [['limits.connectTimeout', /must be a duration such as/]] },
  { name: 'requestTimeout maximum', input: base({ limits: { requestTimeout: '25h' } }), problems: [['limits.requestTimeout', /at most 24h/]] },
  {
    name: 'headersTimeout must not exceed a non-zero requestTimeout',
    input: base({ limits: { requestTimeout: '5s', headersTimeout: '10s' } }),
    problems: [['limits.headersTimeout', /10000ms must not exceed limits.requestTimeout \(5000ms\)/]],
  },
  { name: 'limits unknown key', input: base({ limits: { timeout: '1s' } }), problems: [['limits.timeout', /unknown key/]] },
  { name: 'maxConcurrentRequestsPerConnection minimum', input: base({ limits: { maxConcurrentRequestsPerConnection: 0 } }), problems: [['limits.maxConcurrentRequestsPerConnection', /must be an integer 1-65536/]] },
  { name: 'maxConcurrentRequestsPerConnection maximum (HTTP/2 setting)', input: base({ limits: { maxConcurrentRequestsPerConnection: 65_537 } }), problems: [['limits.maxConcurrentRequestsPerConnection', /must be an integer 1-65536/]] },
  { name: 'maxConcurrentRequestsPerCaller minimum', input: base({ limits: { maxConcurrentRequestsPerCaller: 0 } }), problems: [['limits.maxConcurrentRequestsPerCaller', /must be an integer 1-1000000/]] },
  { name: 'requestBodyIdleTimeout syntax', input: base({ limits: { requestBodyIdleTimeout: 'never' } }), problems: [['limits.requestBodyIdleTimeout', /must be a duration such as/]] },
  { name: 'minUploadBytesPerSecond type', input: base({ limits: { minUploadBytesPerSecond: '1k' } }), problems: [['limits.minUploadBytesPerSecond', /must be an integer 0-1073741824, got string/]] },
  { name: 'minUploadBytesPerSecond needs its grace period', input: base({ limits: { requestBodyIdleTimeout: 0 } }), problems: [['limits.minUploadBytesPerSecond', /needs limits.requestBodyIdleTimeout above 0/]] },
  { name: 'headers.stripInbound must be a list', input: base({ headers: { stripInbound: 'x-http-method' } }), problems: [['headers.stripInbound', /must be a list, got string/]] },
  { name: 'headers.stripInbound entries are header names', input: base({ headers: { stripInbound: ['x ok', 7] } }), problems: [['headers.stripInbound[0]', /must be a header name/], ['headers.stripInbound[1]', /must be a header name/]] },
  // drain
  { name: 'drain.timeout syntax', input: base({ drain: { timeout: '-1s' } }), problems: [['drain.timeout', /must be a duration/]] },
  { name: 'env DRAIN_TIMEOUT needs a unit', input: base(), env: { SPIFFE_SIDECAR_DRAIN_TIMEOUT: '20' }, problems: [['env SPIFFE_SIDECAR_DRAIN_TIMEOUT', /add a unit/]] },
  // log
  { name: 'log.level enum', input: base({ log: { level: 'verbose' } }), problems: [['log.level', /must be one of trace \| debug/]] },
  { name: 'log.accessLog boolean', input: base({ log: { accessLog: 'yes' } }), problems: [['log.accessLog', /must be true or false/]] },
  { name: 'env LOG_LEVEL invalid', input: base(), env: { SPIFFE_SIDECAR_LOG_LEVEL: 'INFO' }, problems: [['env SPIFFE_SIDECAR_LOG_LEVEL', /"INFO": must be one of/]] },
  { name: 'env ACCESS_LOG invalid', input: base(), env: { SPIFFE_SIDECAR_ACCESS_LOG: 'yes' }, problems: [['env SPIFFE_SIDECAR_ACCESS_LOG', /must be true, false, 1 or 0/]] },
  // metrics
  { name: 'maxPeerIds range', input: base({ metrics: { maxPeerIds: -1 } }), problems: [['metrics.maxPeerIds', /must be an integer 0-100000/]] },
];

for (const row of bad) {
  test(`parseConfig rejects: ${row.name}`, () => assertProblems(row.input, row.env, row.problems));
}

interface GoodRow {
  name: string;
  input: unknown;
  env?: Env;
  check: (c: Config) => void;
}

const good: GoodRow[] = [
  {
    name: 'defaults',
    input: base(),
    check: (c) => {
      assert.equal(c.spiffe.endpointSocket, SOCKET);
      assert.equal(c.spiffe.svidHint, '');
      assert.equal(c.spiffe.trustDomain, null);
      assert.equal(c.inbound, null);
      assert.equal(c.outbound, null);
      assert.deepEqual(c.tcp, []);
      assert.deepEqual([c.headers.spiffeId, c.headers.xfcc], ['x-client-spiffe-id', 'x-forwarded-client-cert']);
      assert.deepEqual(c.headers.stripInbound, ['x-http-method-override', 'x-method-override', 'x-http-method', 'x-original-url', 'x-rewrite-url']);
      assert.deepEqual(c.admin, { listen: { host: '0.0.0.0', port: 15020 }, appProbes: [] });
      assert.deepEqual(c.limits, {
        maxHeaderBytes: 16384,
        maxConnections: 4096,
        idleTimeoutMs: 60_000,
        requestTimeoutMs: 0,
        headersTimeoutMs: 10_000,
        connectTimeoutMs: 5_000,
        maxConcurrentRequestsPerConnection: 100,
        maxConcurrentRequestsPerCaller: 256,
        requestBodyIdleTimeoutMs: 30_000,
        minUploadBytesPerSecond: 1024,
      });
      assert.deepEqual(c.drain, { timeoutMs: 20_000 });
      assert.deepEqual(c.log, { level: 'info', accessLog: false, audit: 'off', auditDenyBurst: 20, auditDenyPerMinute: 60 });
      assert.deepEqual(c.metrics, { maxPeerIds: 200 });
      assert.equal(c.source, 'test.yaml');
    },
  },
  {
    name: 'SPIFFE_ENDPOINT_SOCKET fills in when the file has no endpointSocket',
    input: {},
    env: { SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/agent.sock' },
    check: (c) => assert.equal(c.spiffe.endpointSocket, 'unix:///tmp/agent.sock'),
  },
  {
    name: 'the file endpointSocket beats SPIFFE_ENDPOINT_SOCKET (Workload Endpoint spec §4)',
    input: base(),
    env: { SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/other.sock' },
    check: (c) => assert.equal(c.spiffe.endpointSocket, SOCKET),
  },
  {
    name: 'tcp:// endpoint',
    input: { spiffe: { endpointSocket: 'tcp://127.0.0.1:8000' } },
    check: (c) => assert.equal(c.spiffe.endpointSocket, 'tcp://127.0.0.1:8000'),
  },
  {
    name: 'svidHint and trustDomain from the file',
    input: { spiffe: { endpointSocket: SOCKET, svidHint: 'internal', trustDomain: 'example.org' } },
    check: (c) => {
      assert.equal(c.spiffe.svidHint, 'internal');
      assert.equal(c.spiffe.trustDomain?.name, 'example.org');
    },
  },
  {
    name: 'env SVID_HINT beats the file',
    input: { spiffe: { endpointSocket: SOCKET, svidHint: 'a' } },
    env: { SPIFFE_SIDECAR_SVID_HINT: 'b' },
    check: (c) => assert.equal(c.spiffe.svidHint, 'b'),
  },
  {
    name: 'inbound defaults and the same-trust-domain policy',
    input: inbound(),
    check: (c) => {
      assert.deepEqual(c.inbound, {
        listen: { host: '0.0.0.0', port: 15006 },
        app: { host: '127.0.0.1', port: 8080 },
        appProtocol: 'http1',
        appPorts: [],
        policy: { kind: 'sameTrustDomain' },
        webSocket: false,
        transparent: false,
        opaquePorts: [],
      });
    },
  },
  {
    name: 'inbound policyFile and h2c',
    input: inbound({ policyFile: '/etc/p.yaml', appProtocol: 'h2c' }),
    check: (c) => {
      assert.deepEqual(c.inbound?.policy, { kind: 'file', path: '/etc/p.yaml' });
      assert.equal(c.inbound?.appProtocol, 'h2c');
    },
  },
  {
    name: 'webSocket is opt-in per inbound listener, upstream and transparent mode',
    input: base({
      inbound: { app: '127.0.0.1:8080', webSocket: true },
      outbound: { upstreams: [{ host: 'a', serverId: 'spiffe://example.org/a', webSocket: true }, { host: 'b', serverId: 'spiffe://example.org/b' }], transparent: { enabled: true, webSocket: true } },
    }),
    check: (c) => {
      assert.equal(c.inbound?.webSocket, true);
      assert.deepEqual(c.outbound?.upstreams.map((u) => u.webSocket), [true, false]);
      assert.equal(c.outbound?.transparent?.webSocket, true);
    },
  },
  {
    name: 'inbound env overrides beat the file',
    input: inbound({ listen: '0.0.0.0:1000', appProtocol: 'http1', policyFile: '/a.yaml' }),
    env: {
      SPIFFE_SIDECAR_INBOUND_LISTEN: '0.0.0.0:2000',
      SPIFFE_SIDECAR_APP_ADDRESS: 'localhost:3000',
      SPIFFE_SIDECAR_APP_PROTOCOL: 'h2c',
      SPIFFE_SIDECAR_POLICY_FILE: '/b.yaml',
    },
    check: (c) => {
      assert.deepEqual(c.inbound, {
        listen: { host: '0.0.0.0', port: 2000 },
        app: { host: 'localhost', port: 3000 },
        appProtocol: 'h2c',
        appPorts: [],
        policy: { kind: 'file', path: '/b.yaml' },
        webSocket: false,
        transparent: false,
        opaquePorts: [],
      });
    },
  },
  {
    name: 'env APP_ADDRESS alone enables inbound',
    input: base(),
    env: { SPIFFE_SIDECAR_APP_ADDRESS: '127.0.0.1:9000' },
    check: (c) => assert.deepEqual(c.inbound?.app, { host: '127.0.0.1', port: 9000 }),
  },
  {
    name: 'an empty env value counts as unset',
    input: base(),
    env: { SPIFFE_SIDECAR_APP_ADDRESS: '', SPIFFE_SIDECAR_LOG_LEVEL: '' },
    check: (c) => {
      assert.equal(c.inbound, null);
      assert.equal(c.log.level, 'info');
    },
  },
  {
    name: 'IPv6 addresses in brackets; hosts lowercased',
    input: inbound({ listen: '[::]:15006', app: '[::1]:8080' }),
    check: (c) => {
      assert.deepEqual(c.inbound?.listen, { host: '::', port: 15006 });
      assert.deepEqual(c.inbound?.app, { host: '::1', port: 8080 });
    },
  },
  {
    name: 'outbound defaults; upstream with exact ID',
    input: outbound(upstream()),
    check: (c) => {
      assert.deepEqual(c.outbound?.listen, { host: '127.0.0.1', port: 15001 });
      const u = c.outbound!.upstreams[0]!;
      assert.equal(u.host, 'backend');
      assert.equal(u.port, null);
      assert.deepEqual(u.address, { host: '10.0.0.5', port: 15006 });
      assert.equal(u.protocol, 'http1');
      assert.equal(u.server.kind, 'id');
      assert.equal(u.server.kind === 'id' && u.server.id.toString(), 'spiffe://example.org/backend');
    },
  },
  {
    name: 'upstream host with port, IPv6 host, serverIds, serverTrustDomain, h2',
    input: outbound(
      upstream({ host: 'Backend:8080', protocol: 'h2' }),
      upstream({ host: '[FD00::5]', serverId: undefined, serverIds: ['spiffe://example.org/a', 'spiffe://example.org/b'] }),
      upstream({ host: 'backend', serverId: undefined, serverTrustDomain: 'partner.example' }),
    ),
    check: (c) => {
      const [a, b, d] = c.outbound!.upstreams;
      assert.deepEqual([a!.host, a!.port, a!.protocol], ['backend', 8080, 'h2']);
      assert.deepEqual([b!.host, b!.port], ['fd00::5', null]);
      assert.deepEqual(b!.server.kind === 'oneOf' && b!.server.ids.map(String), ['spiffe://example.org/a', 'spiffe://example.org/b']);
      assert.equal(d!.server.kind === 'memberOf' && d!.server.trustDomain.name, 'partner.example');
    },
  },
  {
    name: 'env OUTBOUND_LISTEN beats the file',
    input: base({ outbound: { listen: '127.0.0.1:1', upstreams: [upstream()] } }),
    env: { SPIFFE_SIDECAR_OUTBOUND_LISTEN: '127.0.0.2:15001' },
    check: (c) => assert.deepEqual(c.outbound?.listen, { host: '127.0.0.2', port: 15001 }),
  },
  {
    name: 'inbound appPorts: further apps chosen by the addressed port',
    input: inbound({ appPorts: [{ port: 9090, app: '127.0.0.1:9090', appProtocol: 'h2c' }, { port: 8081, app: 'localhost:8081' }] }),
    check: (c) =>
      assert.deepEqual(c.inbound?.appPorts, [
        { port: 9090, app: { host: '127.0.0.1', port: 9090 }, appProtocol: 'h2c' },
        { port: 8081, app: { host: 'localhost', port: 8081 }, appProtocol: 'http1' },
      ]),
  },
  {
    name: 'transparent off by default',
    input: outbound(upstream()),
    check: (c) => assert.equal(c.outbound?.transparent, null),
  },
  {
    name: 'transparent enabled: own trust domain, any port, no upstreams needed',
    input: base({ outbound: { transparent: { enabled: true } } }),
    check: (c) => {
      assert.deepEqual(c.outbound?.transparent, TRANSPARENT_DEFAULTS);
      assert.deepEqual(c.outbound?.upstreams, []);
    },
  },
  {
    name: 'transparent with a server expectation and ports',
    input: base({ outbound: { transparent: { enabled: true, serverTrustDomain: 'example.org', ports: [80, 8080, 9090] } } }),
    check: (c) => {
      const t = c.outbound!.transparent!;
      assert.equal(t.server?.kind === 'memberOf' && t.server.trustDomain.name, 'example.org');
      assert.deepEqual(t.ports, [80, 8080, 9090]);
    },
  },
  {
    name: 'transparent enabled: false leaves it off',
    input: base({ outbound: { upstreams: [upstream()], transparent: { enabled: false, ports: [80] } } }),
    check: (c) => assert.equal(c.outbound?.transparent, null),
  },
  {
    name: 'transparent: an upstream without address pins the identity of a host dialled by name',
    input: base({ outbound: { upstreams: [upstream({ host: 'payments', address: undefined })], transparent: { enabled: true } } }),
    check: (c) => {
      const u = c.outbound!.upstreams[0]!;
      assert.equal(u.host, 'payments');
      assert.equal(u.address, null);
      assert.equal(u.server.kind, 'id');
    },
  },
  {
    name: 'env TRANSPARENT=true alone enables the outbound proxy in transparent mode',
    input: base(),
    env: { SPIFFE_SIDECAR_TRANSPARENT: 'true' },
    check: (c) => {
      assert.deepEqual(c.outbound?.listen, { host: '127.0.0.1', port: 15001 });
      assert.deepEqual(c.outbound?.transparent, TRANSPARENT_DEFAULTS);
    },
  },
  {
    name: 'env TRANSPARENT=false beats the file',
    input: base({ outbound: { upstreams: [upstream()], transparent: { enabled: true } } }),
    env: { SPIFFE_SIDECAR_TRANSPARENT: 'false' },
    check: (c) => assert.equal(c.outbound?.transparent, null),
  },
  {
    name: 'env TRANSPARENT=0 without an outbound section enables nothing',
    input: inbound(),
    env: { SPIFFE_SIDECAR_TRANSPARENT: '0' },
    check: (c) => assert.equal(c.outbound, null),
  },
  {
    name: 'tcp tunnels',
    input: base({ tcp: [tcpIn(), tcpOut(), tcpIn({ name: 'redis-in', listen: '0.0.0.0:16379', target: '127.0.0.1:6379', policyFile: '/r.yaml' })] }),
    check: (c) => {
      assert.deepEqual(c.tcp[0], {
        name: 'pg-in',
        direction: 'inbound',
        listen: { host: '0.0.0.0', port: 15432 },
        target: { host: '127.0.0.1', port: 5432 },
        policy: { kind: 'sameTrustDomain' },
      });
      const out = c.tcp[1]!;
      assert.equal(out.direction, 'outbound');
      assert.equal(out.direction === 'outbound' && out.server.kind, 'id');
      assert.deepEqual(out.direction === 'outbound' && out.address, { host: '10.0.0.6', port: 15432 });
      assert.deepEqual(c.tcp[2]!.direction === 'inbound' && c.tcp[2]!.policy, { kind: 'file', path: '/r.yaml' });
    },
  },
  {
    name: 'custom header names are lowercased',
    input: base({ headers: { spiffeId: 'X-Peer-Id', xfcc: 'X-Fwd-Cert' } }),
    check: (c) => assert.deepEqual([c.headers.spiffeId, c.headers.xfcc], ['x-peer-id', 'x-fwd-cert']),
  },
  {
    name: 'limits, durations as strings or integer milliseconds',
    input: base({
      limits: { maxHeaderBytes: 1024, maxConnections: 1, idleTimeout: '5m', requestTimeout: '30s', headersTimeout: 1500, connectTimeout: '1.5s' },
    }),
    check: (c) =>
      assert.deepEqual(c.limits, {
        maxHeaderBytes: 1024,
        maxConnections: 1,
        idleTimeoutMs: 300_000,
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 1500,
        connectTimeoutMs: 1500,
        maxConcurrentRequestsPerConnection: 100,
        maxConcurrentRequestsPerCaller: 256,
        requestBodyIdleTimeoutMs: 30_000,
        minUploadBytesPerSecond: 1024,
      }),
  },
  {
    name: 'limits: the upstream budget and the request body limits',
    input: base({ limits: { maxConcurrentRequestsPerConnection: 10, maxConcurrentRequestsPerCaller: 40, requestBodyIdleTimeout: '2m', minUploadBytesPerSecond: 0 } }),
    check: (c) =>
      assert.deepEqual(
        [c.limits.maxConcurrentRequestsPerConnection, c.limits.maxConcurrentRequestsPerCaller, c.limits.requestBodyIdleTimeoutMs, c.limits.minUploadBytesPerSecond],
        [10, 40, 120_000, 0],
      ),
  },
  {
    name: 'limits: body limits off together',
    input: base({ limits: { requestBodyIdleTimeout: 0, minUploadBytesPerSecond: 0 } }),
    check: (c) => assert.deepEqual([c.limits.requestBodyIdleTimeoutMs, c.limits.minUploadBytesPerSecond], [0, 0]),
  },
  {
    name: 'headers.stripInbound: names lowercased',
    input: base({ headers: { stripInbound: ['X-HTTP-Method-Override', 'X-Forwarded-Prefix'] } }),
    check: (c) => assert.deepEqual(c.headers.stripInbound, ['x-http-method-override', 'x-forwarded-prefix']),
  },
  {
    name: 'headers.stripInbound: [] strips none',
    input: base({ headers: { stripInbound: [] } }),
    check: (c) => assert.deepEqual(c.headers.stripInbound, []),
  },
  {
    name: 'env ADMIN_LISTEN, DRAIN_TIMEOUT, LOG_LEVEL, ACCESS_LOG beat the file',
    input: base({ admin: { listen: '0.0.0.0:1' }, drain: { timeout: '1s' }, log: { level: 'warn', accessLog: true } }),
    env: {
      SPIFFE_SIDECAR_ADMIN_LISTEN: '127.0.0.1:9901',
      SPIFFE_SIDECAR_DRAIN_TIMEOUT: '0s',
      SPIFFE_SIDECAR_LOG_LEVEL: 'debug',
      SPIFFE_SIDECAR_ACCESS_LOG: '0',
    },
    check: (c) => {
      assert.deepEqual(c.admin.listen, { host: '127.0.0.1', port: 9901 });
      assert.equal(c.drain.timeoutMs, 0);
      assert.deepEqual(c.log, { level: 'debug', accessLog: false, audit: 'off', auditDenyBurst: 20, auditDenyPerMinute: 60 });
    },
  },
  {
    name: 'outbound credentials are removed by default (token: none)',
    input: base({ outbound: { upstreams: [{ host: 'b', address: '127.0.0.1:1', serverId: 'spiffe://td/b' }] } }),
    check: (c) => assert.equal(c.outbound?.upstreams[0]?.token.mode, 'none'),
  },
  {
    name: 'log.audit on with its deny rate',
    input: base({ log: { audit: 'on', auditDenyBurst: 5, auditDenyPerMinute: 10 } }),
    check: (c) => {
      assert.equal(c.log.audit, 'on');
      assert.equal(c.log.auditDenyBurst, 5);
      assert.equal(c.log.auditDenyPerMinute, 10);
    },
  },
  {
    name: 'env ACCESS_LOG true',
    input: base(),
    env: { SPIFFE_SIDECAR_ACCESS_LOG: 'TRUE' },
    check: (c) => assert.equal(c.log.accessLog, true),
  },
  {
    name: 'maxPeerIds 0 (never label individual peers)',
    input: base({ metrics: { maxPeerIds: 0 } }),
    check: (c) => assert.equal(c.metrics.maxPeerIds, 0),
  },
  {
    name: 'an empty document is valid when the environment supplies the socket',
    input: null,
    env: { SPIFFE_ENDPOINT_SOCKET: SOCKET },
    check: (c) => assert.equal(c.spiffe.endpointSocket, SOCKET),
  },
];

for (const row of good) {
  test(`parseConfig accepts: ${row.name}`, () => row.check(parseConfig(row.input, row.env ?? {}, 'test.yaml')));
}

const warningRows: { name: string; input: unknown; env?: Env; warnings: RegExp[] }[] = [
  { name: 'none for a loopback outbound listener', input: outbound(upstream()), warnings: [] },
  {
    name: 'non-loopback outbound listener',
    input: base({ outbound: { listen: '0.0.0.0:15001', upstreams: [upstream()] } }),
    warnings: [/^outbound\.listen 0\.0\.0\.0:15001 is not a loopback address/],
  },
  {
    name: 'non-loopback outbound listener from env',
    input: outbound(upstream()),
    env: { SPIFFE_SIDECAR_OUTBOUND_LISTEN: '[::]:15001' },
    warnings: [/^outbound\.listen \[::\]:15001 is not a loopback address/],
  },
  { name: 'IPv6 and 127/8 loopback are loopback', input: base({ outbound: { listen: '[::1]:15001', upstreams: [upstream()] }, tcp: [tcpOut({ listen: '127.8.9.10:5433' })] }), warnings: [] },
  { name: 'non-loopback outbound tunnel', input: base({ tcp: [tcpOut({ listen: '10.1.1.1:5433' })] }), warnings: [/^tcp\[0\]\.listen 10\.1\.1\.1:5433 is not a loopback address/] },
  { name: 'non-loopback app', input: inbound({ app: '10.0.0.9:8080' }), warnings: [/^inbound\.app 10\.0\.0\.9:8080 is not a loopback address: traffic .* not encrypted/] },
  { name: 'non-loopback tunnel target', input: base({ tcp: [tcpIn({ target: 'db.internal:5432' })] }), warnings: [/^tcp\[0\]\.target db\.internal:5432 is not a loopback/] },
  { name: 'outbound without upstreams', input: base({ outbound: {} }), warnings: [/outbound has no upstreams/] },
  { name: 'no proxy at all', input: base(), warnings: [/no proxy is configured/] },
  { name: 'transparent outbound without upstreams is not a mistake', input: base({ outbound: { transparent: { enabled: true } } }), warnings: [] },
  {
    name: 'transparent outbound on a loopback address iptables does not redirect to',
    input: base({ outbound: { listen: '127.0.0.2:15001', transparent: { enabled: true } } }),
    warnings: [/^outbound\.listen 127\.0\.0\.2:15001: transparent mode receives redirected connections on 127\.0\.0\.1:15001/],
  },
  { name: 'non-loopback appPorts app', input: inbound({ appPorts: [{ port: 9090, app: '10.0.0.9:9090' }] }), warnings: [/^inbound\.appPorts\[0\]\.app 10\.0\.0\.9:9090 is not a loopback address/] },
  {
    name: 'near-miss SPIFFE_SIDECAR_ variable',
    input: inbound(),
    env: { SPIFFE_SIDECAR_LOGLEVEL: 'debug' },
    warnings: [/SPIFFE_SIDECAR_LOGLEVEL is ignored \(did you mean SPIFFE_SIDECAR_LOG_LEVEL\?\)/],
  },
  { name: 'unrelated SPIFFE_SIDECAR_ variable is left alone', input: inbound(), env: { SPIFFE_SIDECAR_CONFIG: '/etc/x.yaml' }, warnings: [] },
];

for (const row of warningRows) {
  test(`parseConfig warnings: ${row.name}`, () => {
    const c = parseConfig(row.input, row.env ?? {}, 'test.yaml');
    assert.equal(c.warnings.length, row.warnings.length, JSON.stringify(c.warnings));
    row.warnings.forEach((w, i) => assert.match(c.warnings[i]!, w));
  });
}

test('parseConfig as a whole: reports every problem at once, in one message', () => {
  const input = {
    spiffe: { endpointSocket: 'ftp://x' },
    inbound: { listen: '0.0.0.0:99999', app: '127.0.0.1:8080' },
    limits: { idleTimeout: 'soon' },
    typo: true,
  };
  try {
    parseConfig(input, { SPIFFE_SIDECAR_LOG_LEVEL: 'loud' }, 'sidecar.yaml');
    assert.fail('expected a throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(
      err.problems.map((p) => p.path),
      ['typo', 'spiffe.endpointSocket', 'inbound.listen', 'limits.idleTimeout', 'env SPIFFE_SIDECAR_LOG_LEVEL'],
    );
    assert.match(err.message, /^config: sidecar\.yaml: 5 problems:\n/);
    assert.ok(err.message.includes('\n  inbound.listen: "0.0.0.0:99999": port must be 1-65535\n'));
    for (const p of err.problems) assert.ok(err.message.includes(`  ${p.path}: ${p.message}`));
  }
});

test('parseConfig as a whole: returns a deeply frozen Config', () => {
  const c = parseConfig({ ...outbound(upstream({ serverId: undefined, serverIds: ['spiffe://a/b'] })), tcp: [tcpIn()] }, {}, 'x');
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v !== 'object') return;
    assert.ok(Object.isFrozen(v), `${path} is not frozen`);
    for (const [k, child] of Object.entries(v)) walk(child, `${path}.${k}`);
  };
  walk(c, 'config');
  assert.throws(() => {
    (c.outbound!.upstreams as unknown[]).push(1);
  }, TypeError);
});

test('parseConfig as a whole: does not modify its input', () => {
  const input = inbound({ listen: '[::]:15006' });
  const copy = structuredClone(input);
  parseConfig(input, {}, 'x');
  assert.deepEqual(input, copy);
});
