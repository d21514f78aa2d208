/**
 * `inbound.transparent` and `inbound.opaquePorts`: one row per rule of
 * sidecar/config/proxy-sections.ts (opaquePorts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../sidecar/config/index.ts';

const SOCKET = 'unix:///run/spire/sockets/agent.sock';
const doc = (inbound: Record<string, unknown>): unknown => ({ spiffe: { endpointSocket: SOCKET }, inbound: { app: '127.0.0.1:8080', ...inbound } });

function problems(input: unknown): string[] {
  try {
    parseConfig(input, {}, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

test('defaults: not transparent, no opaque ports', () => {
  const c = parseConfig(doc({}), {}, 'test.yaml');
  assert.equal(c.inbound?.transparent, false);
  assert.deepEqual(c.inbound?.opaquePorts, []);
});

test('transparent with opaque ports', () => {
  const c = parseConfig(doc({ transparent: true, opaquePorts: [5432, 6379] }), {}, 'test.yaml');
  assert.equal(c.inbound?.transparent, true);
  assert.deepEqual(c.inbound?.opaquePorts, [5432, 6379]);
});

test('an empty opaquePorts list means none', () => {
  assert.deepEqual(parseConfig(doc({ transparent: true, opaquePorts: [] }), {}, 'test.yaml').inbound?.opaquePorts, []);
});

const bad: { name: string; inbound: Record<string, unknown>; problem: RegExp }[] = [
  { name: 'opaque ports need transparent', inbound: { opaquePorts: [5432] }, problem: /^inbound\.opaquePorts: needs inbound\.transparent: true/ },
  { name: 'a port is either HTTP or opaque', inbound: { transparent: true, opaquePorts: [9090], appPorts: [{ port: 9090, app: '127.0.0.1:9090' }] }, problem: /^inbound\.opaquePorts\[0\]: 9090 is also in inbound\.appPorts/ },
  { name: 'opaque ports are ports', inbound: { transparent: true, opaquePorts: [70000] }, problem: /^inbound\.opaquePorts\[0\]: / },
  { name: 'opaque ports are listed once', inbound: { transparent: true, opaquePorts: [5432, 5432] }, problem: /^inbound\.opaquePorts\[1\]: 5432 is listed twice/ },
  { name: 'transparent is a boolean', inbound: { transparent: 'yes please' }, problem: /^inbound\.transparent: / },
];
for (const row of bad) {
  test(`refused: ${row.name}`, () => {
    const p = problems(doc(row.inbound));
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0]!, row.problem);
  });
}
