/**
 * admin.appProbes and SPIFFE_SIDECAR_APP_PROBES: one row per rule, every
 * problem of a document reported at once, the environment replacing the
 * file's list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type AppProbe, type Config } from '../../../sidecar/config/index.ts';
import { assertProblems, type Env } from './config-problems.ts';
import { ENV_APP_PROBES } from '../../../sidecar/core/index.ts';

type Doc = Record<string, unknown>;

const SOCKET = 'unix:///run/spire/sockets/agent.sock';
const withProbes = (...probes: unknown[]): Doc => ({ spiffe: { endpointSocket: SOCKET }, admin: { appProbes: probes } });
const probe = (extra: Doc = {}): Doc => ({ port: 8080, target: '/healthz', ...extra });
const envOf = (value: unknown): Env => ({ [ENV_APP_PROBES]: typeof value === 'string' ? value : JSON.stringify(value) });
const noProbes: Doc = { spiffe: { endpointSocket: SOCKET } };

const E = `env ${ENV_APP_PROBES}`;

const bad: { name: string; input: unknown; env?: Env; problems: [string, RegExp][] }[] = [
  { name: 'appProbes must be a list', input: { ...noProbes, admin: { appProbes: { port: 8080 } } }, problems: [['admin.appProbes', /must be a list, got a mapping/]] },
  { name: 'an entry must be a mapping', input: withProbes('/healthz'), problems: [['admin.appProbes[0]', /must be a mapping/]] },
  { name: 'unknown entry key', input: withProbes(probe({ path: '/app-probe/8080/healthz' })), problems: [['admin.appProbes[0].path', /unknown key/]] },
  { name: 'port is required', input: withProbes({ target: '/healthz' }), problems: [['admin.appProbes[0].port', /is required/]] },
  { name: 'target is required', input: withProbes({ port: 8080 }), problems: [['admin.appProbes[0].target', /is required/]] },
  { name: 'port 0', input: withProbes(probe({ port: 0 })), problems: [['admin.appProbes[0].port', /must be an integer 1-65535/]] },
  { name: 'port 65536', input: withProbes(probe({ port: 65536 })), problems: [['admin.appProbes[0].port', /must be an integer 1-65535/]] },
  { name: 'port as a string', input: withProbes(probe({ port: '8080' })), problems: [['admin.appProbes[0].port', /must be an integer 1-65535, got string/]] },
  { name: 'port of the admin listener loops', input: withProbes(probe({ port: 15020 })), problems: [['admin.appProbes[0].port', /admin listener's own port: the probe would loop/]] },
  { name: 'target must start with /', input: withProbes(probe({ target: 'healthz' })), problems: [['admin.appProbes[0].target', /"healthz": must start with "\/"/]] },
  { name: 'target must be a string', input: withProbes(probe({ target: 5 })), problems: [['admin.appProbes[0].target', /must be a path such as \/healthz, got number/]] },
  { name: 'target with a space', input: withProbes(probe({ target: '/a b' })), problems: [['admin.appProbes[0].target', /must be a URL path/]] },
  { name: 'target with a fragment', input: withProbes(probe({ target: '/a#b' })), problems: [['admin.appProbes[0].target', /must be a URL path/]] },
  { name: 'target with a broken percent escape', input: withProbes(probe({ target: '/a%zz' })), problems: [['admin.appProbes[0].target', /must be a URL path/]] },
  { name: 'target too long', input: withProbes(probe({ target: '/' + 'a'.repeat(2048) })), problems: [['admin.appProbes[0].target', /at most 2048 characters/]] },
  {
    name: 'the same port and path twice',
    input: withProbes(probe(), probe({ timeout: '3s' })),
    problems: [['admin.appProbes[1].target', /port 8080 path "\/healthz" is already probed by admin\.appProbes\[0\]/]],
  },
  {
    name: 'targets differing only in the query share one path',
    input: withProbes(probe({ target: '/healthz?a=1' }), probe({ target: '/healthz?b=2' })),
    problems: [['admin.appProbes[1].target', /already probed by admin\.appProbes\[0\]/]],
  },
  {
    name: 'HTTPS is refused with the reason and the remedy',
    input: withProbes(probe({ scheme: 'HTTPS' })),
    problems: [['admin.appProbes[0].scheme', /HTTPS app probes are not supported: .*plain HTTP over loopback.*exclude-inbound-ports/]],
  },
  { name: 'scheme is case-sensitive, as in Kubernetes', input: withProbes(probe({ scheme: 'http' })), problems: [['admin.appProbes[0].scheme', /"http": must be HTTP/]] },
  { name: 'headers must be a list', input: withProbes(probe({ headers: { 'X-Probe': '1' } })), problems: [['admin.appProbes[0].headers', /must be a list/]] },
  { name: 'a header needs a name', input: withProbes(probe({ headers: [{ value: '1' }] })), problems: [['admin.appProbes[0].headers[0].name', /is required/]] },
  { name: 'a header needs a value', input: withProbes(probe({ headers: [{ name: 'X-Probe' }] })), problems: [['admin.appProbes[0].headers[0].value', /is required/]] },
  { name: 'unknown header key', input: withProbes(probe({ headers: [{ name: 'X-Probe', value: '1', values: ['2'] }] })), problems: [['admin.appProbes[0].headers[0].values', /unknown key/]] },
  { name: 'header name must be a token', input: withProbes(probe({ headers: [{ name: 'X Probe', value: '1' }] })), problems: [['admin.appProbes[0].headers[0].name', /must be an HTTP header name/]] },
  { name: 'connection headers are refused', input: withProbes(probe({ headers: [{ name: 'Transfer-Encoding', value: 'chunked' }] })), problems: [['admin.appProbes[0].headers[0].name', /sets connection and framing headers itself/]] },
  { name: 'header value with CR LF', input: withProbes(probe({ headers: [{ name: 'X-Probe', value: 'a\r\nX-Evil: 1' }] })), problems: [['admin.appProbes[0].headers[0].value', /must not contain control characters/]] },
  { name: 'header value must be a string', input: withProbes(probe({ headers: [{ name: 'X-Probe', value: 1 }] })), problems: [['admin.appProbes[0].headers[0].value', /must be a string, got number/]] },
  {
    name: 'two Host headers',
    input: withProbes(probe({ headers: [{ name: 'Host', value: 'a' }, { name: 'host', value: 'b' }] })),
    problems: [['admin.appProbes[0].headers[1].name', /Host is already set by admin\.appProbes\[0\]\.headers\[0\]/]],
  },
  { name: 'timeout must be positive', input: withProbes(probe({ timeout: '0s' })), problems: [['admin.appProbes[0].timeout', /must be greater than zero/]] },
  { name: 'timeout needs a unit', input: withProbes(probe({ timeout: '5' })), problems: [['admin.appProbes[0].timeout', /add a unit/]] },
  { name: 'env: not JSON', input: noProbes, env: envOf('[{port: 8080}]'), problems: [[E, /is not valid JSON/]] },
  { name: 'env: not an array', input: noProbes, env: envOf({ port: 8080, target: '/healthz' }), problems: [[E, /must be a JSON array of probes, got a mapping/]] },
  { name: 'env: entry problems carry the variable and index', input: noProbes, env: envOf([probe(), { port: 70000, target: 'x' }]), problems: [[`${E}[1].port`, /1-65535/], [`${E}[1].target`, /must start with "\/"/]] },
  { name: 'env: HTTPS refused too', input: noProbes, env: envOf([probe({ scheme: 'HTTPS' })]), problems: [[`${E}[0].scheme`, /HTTPS app probes are not supported/]] },
  { name: 'env: duplicates', input: noProbes, env: envOf([probe(), probe()]), problems: [[`${E}[1].target`, /already probed by env SPIFFE_SIDECAR_APP_PROBES\[0\]/]] },
  {
    name: 'env set: the file list is still checked',
    input: withProbes(probe({ port: 0 })),
    env: envOf([probe()]),
    problems: [['admin.appProbes[0].port', /1-65535/]],
  },
  {
    name: 'every problem of the list at once',
    input: withProbes(probe({ port: 0, target: 'a', scheme: 'HTTPS', timeout: 'x' }), 'nope', probe({ headers: [{ name: 'Connection', value: 'close' }] })),
    problems: [
      ['admin.appProbes[0].port', /1-65535/],
      ['admin.appProbes[0].target', /must start with/],
      ['admin.appProbes[0].scheme', /HTTPS/],
      ['admin.appProbes[0].timeout', /duration/],
      ['admin.appProbes[1]', /must be a mapping/],
      ['admin.appProbes[2].headers[0].name', /framing/],
    ],
  },
];

for (const row of bad) {
  test(`admin.appProbes rejects: ${row.name}`, () => assertProblems(row.input, row.env, row.problems));
}

const good: { name: string; input: unknown; env?: Env; check: (probes: readonly AppProbe[], c: Config) => void }[] = [
  { name: 'none by default', input: noProbes, check: (p) => assert.deepEqual(p, []) },
  {
    name: 'defaults: scheme HTTP, no headers, 1 s (the kubelet default)',
    input: withProbes(probe()),
    check: (p) => assert.deepEqual(p, [{ port: 8080, target: '/healthz', scheme: 'HTTP', headers: [], timeoutMs: 1000 }]),
  },
  {
    name: 'every key',
    input: withProbes(probe({ target: '/health?full=1', scheme: 'HTTP', timeout: '3s', headers: [{ name: 'X-Probe', value: 'a b' }, { name: 'Host', value: 'app.local' }] })),
    check: (p) =>
      assert.deepEqual(p, [
        { port: 8080, target: '/health?full=1', scheme: 'HTTP', headers: [{ name: 'X-Probe', value: 'a b' }, { name: 'Host', value: 'app.local' }], timeoutMs: 3000 },
      ]),
  },
  {
    name: 'the same path on two ports, and two paths on one port',
    input: withProbes(probe(), probe({ port: 9090 }), probe({ target: '/ready' })),
    check: (p) => assert.deepEqual(p.map((x) => `${x.port}${x.target}`), ['8080/healthz', '9090/healthz', '8080/ready']),
  },
  {
    name: 'a header name may repeat (sent on several lines), an empty value is allowed',
    input: withProbes(probe({ headers: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '' }] })),
    check: (p) => assert.equal(p[0]!.headers.length, 2),
  },
  {
    name: 'env replaces the file list',
    input: withProbes(probe({ target: '/file' })),
    env: envOf([{ port: 9000, target: '/env', timeout: 2500, headers: [{ name: 'X-Probe', value: '1' }] }]),
    check: (p) => assert.deepEqual(p, [{ port: 9000, target: '/env', scheme: 'HTTP', headers: [{ name: 'X-Probe', value: '1' }], timeoutMs: 2500 }]),
  },
  { name: 'env "[]" clears the file list', input: withProbes(probe()), env: envOf([]), check: (p) => assert.deepEqual(p, []) },
  { name: 'env "" counts as unset', input: withProbes(probe()), env: { [ENV_APP_PROBES]: '' }, check: (p) => assert.equal(p.length, 1) },
  {
    name: 'the env name is known, and a near miss is warned about',
    input: noProbes,
    env: { SPIFFE_SIDECAR_APP_PROBE: '[]' },
    check: (_p, c) => assert.match(c.warnings.join('\n'), /SPIFFE_SIDECAR_APP_PROBE is ignored \(did you mean SPIFFE_SIDECAR_APP_PROBES\?\)/),
  },
  {
    name: 'the result is frozen',
    input: withProbes(probe({ headers: [{ name: 'X-Probe', value: '1' }] })),
    check: (p) => {
      assert.ok(Object.isFrozen(p) && Object.isFrozen(p[0]) && Object.isFrozen(p[0]!.headers[0]));
    },
  },
];

for (const row of good) {
  test(`admin.appProbes accepts: ${row.name}`, () => {
    const c = parseConfig(row.input, row.env ?? {}, 'test.yaml');
    row.check(c.admin.appProbes, c);
  });
}
