/**
 * The keys of transparent classification: `outbound.transparent.meshCidrs`,
 * `opaquePorts`, `detectTimeout`, `outbound.egress`, and their env
 * overrides, plus SPIFFE_SIDECAR_INBOUND_TRANSPARENT. One row per rule of
 * sidecar/config/proxy-sections.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, type Config } from '../../../sidecar/config/index.ts';
// Not yet re-exported by the config index (the env names are moving to core/env-names.ts).
import { ENV_EGRESS_ALLOW, ENV_INBOUND_TRANSPARENT, ENV_MESH_CIDRS, ENV_OPAQUE_PORTS } from '../../../sidecar/core/index.ts';
import { DEFAULT_MESH_CIDRS } from '../../../sidecar/outbound/index.ts';
import { DEFAULT_OPAQUE_PORTS } from '../../../sidecar/transparent/index.ts';

const SOCKET = 'unix:///run/spire/sockets/agent.sock';
type Env = Record<string, string>;
const doc = (outbound: Record<string, unknown>): unknown => ({ spiffe: { endpointSocket: SOCKET }, outbound: { ...outbound } });
const on = (t: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): unknown => doc({ transparent: { enabled: true, ...t }, ...rest });

function problems(input: unknown, env: Env = {}): string[] {
  try {
    parseConfig(input, env, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

const transparent = (c: Config) => c.outbound!.transparent!;

const t = transparent(parseConfig(on(), {}, 'test.yaml'));
test('transparent classification: defaults: mesh: the private ranges, as the outbound module defaults', () => {
  assert.deepEqual(t.meshCidrs, ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
  assert.deepEqual(t.meshCidrs, DEFAULT_MESH_CIDRS);
});
test("transparent classification: defaults: opaque ports: linkerd2's list, as sidecar/transparent's", () => assert.deepEqual(t.opaquePorts, DEFAULT_OPAQUE_PORTS));
test('transparent classification: defaults: detect timeout 1 s', () => assert.equal(t.detectTimeoutMs, 1000));
test('transparent classification: defaults: egress: none (default deny)', () => assert.deepEqual(t.egress, []));
test('transparent classification: defaults: env-only transparent mode gets the same defaults', () => {
  const e = transparent(parseConfig({ spiffe: { endpointSocket: SOCKET } }, { SPIFFE_SIDECAR_TRANSPARENT: 'true' }, 'env'));
  assert.deepEqual([e.meshCidrs, e.opaquePorts, e.detectTimeoutMs, e.egress], [t.meshCidrs, t.opaquePorts, t.detectTimeoutMs, t.egress]);
});

const acceptedRows: { name: string; input: unknown; env?: Env; check: (c: Config) => void }[] = [
  { name: 'meshCidrs with IPv6 and a single address', input: on({ meshCidrs: ['10.96.0.0/12', 'fd00::/8', '100.64.0.7'] }), check: (c) => assert.deepEqual(transparent(c).meshCidrs, ['10.96.0.0/12', 'fd00::/8', '100.64.0.7']) },
  { name: 'opaquePorts replaces the list', input: on({ opaquePorts: [5432, 7000] }), check: (c) => assert.deepEqual(transparent(c).opaquePorts, [5432, 7000]) },
  { name: 'an empty opaquePorts sniffs every port', input: on({ opaquePorts: [] }), check: (c) => assert.deepEqual(transparent(c).opaquePorts, []) },
  { name: 'detectTimeout as a duration', input: on({ detectTimeout: '250ms' }), check: (c) => assert.equal(transparent(c).detectTimeoutMs, 250) },
  {
    name: 'egress entries',
    input: on({}, { egress: { allow: [{ host: 'API.example.com.', ports: [443] }, { host: '*.cdn.example.net' }, { cidr: '198.51.100.0/24', ports: [5432] }] } }),
    check: (c) =>
      assert.deepEqual(transparent(c).egress, [
        { host: 'api.example.com', cidr: null, ports: [443] },
        { host: '*.cdn.example.net', cidr: null, ports: null },
        { host: null, cidr: '198.51.100.0/24', ports: [5432] },
      ]),
  },
  { name: 'env mesh CIDRs beat the file', input: on({ meshCidrs: ['10.0.0.0/8'] }), env: { [ENV_MESH_CIDRS]: '10.244.0.0/16, fd00::/8' }, check: (c) => assert.deepEqual(transparent(c).meshCidrs, ['10.244.0.0/16', 'fd00::/8']) },
  { name: 'env opaque ports', input: on(), env: { [ENV_OPAQUE_PORTS]: '5432,6379,5432' }, check: (c) => assert.deepEqual(transparent(c).opaquePorts, [5432, 6379]) },
  { name: 'env opaque ports: none', input: on(), env: { [ENV_OPAQUE_PORTS]: 'none' }, check: (c) => assert.deepEqual(transparent(c).opaquePorts, []) },
  {
    name: 'env egress JSON replaces the file list',
    input: on({}, { egress: { allow: [{ host: 'a.example' }] } }),
    env: { [ENV_EGRESS_ALLOW]: '[{"host":"allowed.test","ports":[8443]}]' },
    check: (c) => assert.deepEqual(transparent(c).egress, [{ host: 'allowed.test', cidr: null, ports: [8443] }]),
  },
  {
    name: 'SPIFFE_SIDECAR_INBOUND_TRANSPARENT turns transparent inbound on',
    input: { spiffe: { endpointSocket: SOCKET }, inbound: { app: '127.0.0.1:5432' } },
    env: { [ENV_INBOUND_TRANSPARENT]: 'true' },
    check: (c) => assert.equal(c.inbound?.transparent, true),
  },
  {
    name: 'SPIFFE_SIDECAR_INBOUND_TRANSPARENT enables inbound from env alone',
    input: { spiffe: { endpointSocket: SOCKET } },
    env: { [ENV_INBOUND_TRANSPARENT]: '1', SPIFFE_SIDECAR_APP_ADDRESS: '127.0.0.1:6379' },
    check: (c) => assert.equal(c.inbound?.transparent, true),
  },
];
for (const r of acceptedRows) test(`transparent classification: accepted values: ${r.name}`, () => r.check(parseConfig(r.input, r.env ?? {}, 'test.yaml')));

const refusedRows: { name: string; input: unknown; env?: Env; problem: RegExp }[] = [
  { name: 'meshCidrs must be a list', input: on({ meshCidrs: '10.0.0.0/8' }), problem: /^outbound\.transparent\.meshCidrs: must be a list of CIDRs/ },
  { name: 'meshCidrs must not be empty', input: on({ meshCidrs: [] }), problem: /^outbound\.transparent\.meshCidrs: must list at least one CIDR/ },
  { name: 'a prefix too long', input: on({ meshCidrs: ['10.0.0.0/33'] }), problem: /^outbound\.transparent\.meshCidrs: .*is not a CIDR/ },
  { name: 'an IPv6 prefix too long', input: on({ meshCidrs: ['fd00::/129'] }), problem: /is not a CIDR/ },
  { name: 'a name is no CIDR', input: on({ meshCidrs: ['cluster.local/8'] }), problem: /is not a CIDR/ },
  { name: 'a CIDR must be a string', input: on({ meshCidrs: [10] }), problem: /must be a CIDR such as 10\.0\.0\.0\/8/ },
  { name: 'opaquePorts are ports', input: on({ opaquePorts: [0] }), problem: /^outbound\.transparent\.opaquePorts\[0\]: / },
  { name: 'opaquePorts listed once', input: on({ opaquePorts: [5432, 5432] }), problem: /^outbound\.transparent\.opaquePorts\[1\]: 5432 is listed twice/ },
  { name: 'detectTimeout above 10s', input: on({ detectTimeout: '11s' }), problem: /^outbound\.transparent\.detectTimeout: .*at most 10s/ },
  { name: 'detectTimeout zero', input: on({ detectTimeout: '0s' }), problem: /^outbound\.transparent\.detectTimeout: .*greater than zero/ },
  { name: 'egress without transparent mode', input: doc({ upstreams: [], egress: { allow: [] } }), problem: /^outbound\.egress: applies only with outbound\.transparent\.enabled: true/ },
  { name: 'egress unknown key', input: on({}, { egress: { deny: [] } }), problem: /^outbound\.egress\.deny: / },
  { name: 'egress entry with neither host nor cidr', input: on({}, { egress: { allow: [{ ports: [443] }] } }), problem: /^outbound\.egress\.allow\[0\]: needs exactly one of host .* and cidr/ },
  { name: 'egress entry with both', input: on({}, { egress: { allow: [{ host: 'a.example', cidr: '10.0.0.0/8' }] } }), problem: /^outbound\.egress\.allow\[0\]: needs exactly one of/ },
  { name: 'egress host that is an IP', input: on({}, { egress: { allow: [{ host: '198.51.100.7' }] } }), problem: /^outbound\.egress\.allow\[0\]\.host: .*is an IP address: list it as cidr/ },
  { name: 'egress host wildcard inside a label', input: on({}, { egress: { allow: [{ host: 'a*.example.com' }] } }), problem: /^outbound\.egress\.allow\[0\]\.host: .*is not a DNS name/ },
  { name: 'egress host bare wildcard', input: on({}, { egress: { allow: [{ host: '*' }] } }), problem: /^outbound\.egress\.allow\[0\]\.host: .*is not a DNS name/ },
  { name: 'egress cidr malformed', input: on({}, { egress: { allow: [{ cidr: '198.51.100.0/40' }] } }), problem: /^outbound\.egress\.allow\[0\]\.cidr: .*is not a CIDR/ },
  { name: 'egress ports are ports', input: on({}, { egress: { allow: [{ host: 'a.example', ports: [99999] }] } }), problem: /^outbound\.egress\.allow\[0\]\.ports\[0\]: / },
  { name: 'egress unknown entry key', input: on({}, { egress: { allow: [{ host: 'a.example', sni: 'x' }] } }), problem: /^outbound\.egress\.allow\[0\]\.sni: / },
  { name: 'env mesh CIDR malformed', input: on(), env: { [ENV_MESH_CIDRS]: '10.0.0.0/8,nope' }, problem: new RegExp(`^env ${ENV_MESH_CIDRS}: .*is not a CIDR`) },
  { name: 'env opaque ports malformed', input: on(), env: { [ENV_OPAQUE_PORTS]: '5432,x' }, problem: new RegExp(`^env ${ENV_OPAQUE_PORTS}: .*comma-separated list of ports, or none`) },
  { name: 'env egress not JSON', input: on(), env: { [ENV_EGRESS_ALLOW]: '[{host:' }, problem: new RegExp(`^env ${ENV_EGRESS_ALLOW}: is not valid JSON`) },
  { name: 'env egress not an array', input: on(), env: { [ENV_EGRESS_ALLOW]: '{"host":"a.example"}' }, problem: new RegExp(`^env ${ENV_EGRESS_ALLOW}: must be a JSON array`) },
  { name: 'env egress bad entry', input: on(), env: { [ENV_EGRESS_ALLOW]: '[{"host":"a.example","cidr":"10.0.0.0/8"}]' }, problem: new RegExp(`^env ${ENV_EGRESS_ALLOW}\\[0\\]: needs exactly one of`) },
  { name: 'env inbound transparent not a boolean', input: { spiffe: { endpointSocket: SOCKET }, inbound: { app: '127.0.0.1:8080' } }, env: { [ENV_INBOUND_TRANSPARENT]: 'sure' }, problem: new RegExp(`^env ${ENV_INBOUND_TRANSPARENT}: `) },
];
for (const r of refusedRows) {
  test(`transparent classification: refused values: ${r.name}`, () => {
    const p = problems(r.input, r.env);
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0]!, r.problem);
  });
}
