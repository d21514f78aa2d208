import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfigText } from '../../../sidecar/config/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const SOCKET_LINE = 'spiffe:\n  endpointSocket: unix:///run/agent.sock\n';

function syntaxProblems(text: string): { path: string; message: string }[] {
  try {
    loadConfigText(text, {}, 'bad.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'config.syntax');
    assert.match(err.message, /^config: bad\.yaml: /);
    return [...err.problems];
  }
  assert.fail('expected a syntax error');
}

const syntax: [name: string, text: string, path: string, message: RegExp][] = [
  ['unclosed flow sequence', `${SOCKET_LINE}tcp: [\n`, 'line 4, column 1', /Flow sequence|Missing|end/i],
  ['bad indentation', `${SOCKET_LINE}log:\n  level: info\n accessLog: true\n`, 'line 5, column 1', /indent|same column/i],
  ['duplicate keys are an error, not "last one wins"', `${SOCKET_LINE}log:\n  level: info\n  level: debug\n`, 'line 5, column 3', /unique/],
  ['several documents', `${SOCKET_LINE}---\nlog: {}\n`, 'line 3, column 1', /multiple documents/],
];
for (const [name, text, path, message] of syntax) {
  test(`loadConfigText: names line and column: ${name}`, () => {
    const [first] = syntaxProblems(text);
    assert.equal(first?.path, path);
    assert.match(first!.message, message);
  });
}

test('loadConfigText: refuses alias expansion beyond the limit (billion laughs)', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) {
    const prev = String.fromCharCode(97 + i);
    const cur = String.fromCharCode(98 + i);
    lines.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  const problems = syntaxProblems(lines.join('\n') + '\n');
  assert.equal(problems[0]?.path, '(document)');
  assert.match(problems[0]!.message, /alias/i);
});

test('loadConfigText: uses the YAML 1.2 core schema: "yes" is a string, so a boolean typo is reported', () => {
  assert.throws(
    () => loadConfigText(`${SOCKET_LINE}log:\n  accessLog: yes\n`, {}, 'x.yaml'),
    (err: unknown) => err instanceof ConfigError && err.code === 'config.invalid' && err.problems[0]?.path === 'log.accessLog',
  );
});

test('loadConfigText: an empty file is an empty document (the environment may supply the rest)', () => {
  const c = loadConfigText('# nothing here\n', { SPIFFE_ENDPOINT_SOCKET: 'unix:///run/agent.sock' }, 'empty.yaml');
  assert.equal(c.spiffe.endpointSocket, 'unix:///run/agent.sock');
});

test('loadConfigText: passes schema problems through as config.invalid', () => {
  assert.throws(
    () => loadConfigText(`${SOCKET_LINE}inbound:\n  listen: 0.0.0.0:99999\n  app: 127.0.0.1:8080\n`, {}, 'x.yaml'),
    /inbound\.listen: "0\.0\.0\.0:99999": port must be 1-65535/,
  );
});

const text = readFileSync(join(root, 'examples', 'sidecar.yaml'), 'utf8');

test('examples/sidecar.yaml: parses without problems or warnings', () => {
  const c = loadConfigText(text, {}, 'examples/sidecar.yaml');
  assert.deepEqual(c.warnings, []);
  assert.equal(c.spiffe.trustDomain?.name, 'example.org');
  assert.deepEqual(c.inbound?.policy, { kind: 'file', path: '/etc/spiffe-sidecar/policy.yaml' });
  assert.deepEqual(
    c.outbound?.upstreams.map((u) => [u.host, u.port, u.server.kind, u.protocol]),
    [
      ['backend', null, 'id', 'http1'],
      ['payments', 8443, 'oneOf', 'h2'],
      ['reports', null, 'memberOf', 'http1'],
    ],
  );
  assert.deepEqual(c.admin.appProbes.map((p) => [p.port, p.target, p.timeoutMs, p.headers.length]), [[8080, '/healthz', 2000, 1]]);
  assert.deepEqual(
    c.tcp.map((t) => [t.name, t.direction]),
    [
      ['postgres-in', 'inbound'],
      ['postgres-out', 'outbound'],
    ],
  );
});

test('examples/sidecar.yaml: sets every key of the schema (it is the complete example)', () => {
  const keys = [
    'endpointSocket', 'svidHint', 'trustDomain', 'listen', 'app', 'appProtocol', 'policyFile', 'upstreams', 'host',
    'address', 'serverId', 'serverIds', 'serverTrustDomain', 'protocol', 'name', 'direction', 'target', 'spiffeId',
    'xfcc', 'maxHeaderBytes', 'maxConnections', 'idleTimeout', 'requestTimeout', 'headersTimeout', 'connectTimeout',
    'timeout', 'level', 'accessLog', 'maxPeerIds', 'appPorts', 'port', 'transparent', 'enabled', 'ports',
    'appProbes', 'scheme', 'headers', 'value',
  ];
  for (const k of keys) assert.match(text, new RegExp(`^\\s*-? *${k}:`, 'm'), `examples/sidecar.yaml lacks ${k}`);
});

test('examples/sidecar.yaml: is documented: docs/config.md names every key the example uses', () => {
  const docs = readFileSync(join(root, 'docs', 'config.md'), 'utf8');
  for (const m of text.matchAll(/^\s*-?\s*([a-zA-Z]+):/gm)) assert.ok(docs.includes(`\`${m[1]}\``), `docs/config.md does not mention \`${m[1]}\``);
});
