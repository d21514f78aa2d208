/**
 * The sidecar an injected pod runs without any config file: the env the
 * injector writes must be accepted by the sidecar's own config parser and
 * turn on what protects the pod (inbound mTLS, transparent outbound), on
 * both IP families. Runs the real parseConfig, not a copy of its rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../sidecar/config/index.ts';
import { CONFIG_ENV_VARS, ENV_ENDPOINT_SOCKET } from '../../../sidecar/core/index.ts';
import { applyJsonPatch, injectPod, type JsonObject } from '../../../sidecar/injector/index.ts';
import { container, pod, settings } from './fixtures.ts';

/** The env of the injected sidecar as a plain map. */
function sidecarEnv(annotations: Record<string, string> = {}): Record<string, string> {
  const p = pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', ...annotations } });
  const out = applyJsonPatch(p, injectPod(p, { settings: settings() }).patch);
  const list = (container(out, 'spiffe-sidecar')!['env'] as JsonObject[]) ?? [];
  return Object.fromEntries(list.map((e) => [String(e['name']), String(e['value'])]));
}

const configRows: { name: string; annotations: Record<string, string>; check: (c: ReturnType<typeof parseConfig>) => void }[] = [
  {
    name: 'defaults: inbound on [::]:15006 forwarding to the app on loopback',
    annotations: {},
    check: (c) => {
      assert.deepEqual(c.inbound?.listen, { host: '::', port: 15006 });
      assert.deepEqual(c.inbound?.app, { host: '127.0.0.1', port: 8080 });
    },
  },
  {
    name: 'defaults: transparent outbound on [::]:15001',
    annotations: {},
    check: (c) => {
      assert.notEqual(c.outbound?.transparent, null);
      assert.deepEqual(c.outbound?.listen, { host: '::', port: 15001 });
    },
  },
  { name: 'defaults: admin on [::]:15020', annotations: {}, check: (c) => assert.deepEqual(c.admin.listen, { host: '::', port: 15020 }) },
  {
    name: 'ipv6 "false": IPv4 listeners',
    annotations: { 'spiffe-sidecar.io/ipv6': 'false' },
    check: (c) => {
      assert.deepEqual(c.inbound?.listen, { host: '0.0.0.0', port: 15006 });
      assert.deepEqual(c.outbound?.listen, { host: '127.0.0.1', port: 15001 });
    },
  },
  { name: 'intercept-outbound "false": no outbound proxy', annotations: { 'spiffe-sidecar.io/intercept-outbound': 'false' }, check: (c) => assert.equal(c.outbound, null) },
];
for (const r of configRows) {
  test(`env-only config of an injected pod: ${r.name}`, () => {
    r.check(parseConfig(undefined, sidecarEnv(r.annotations), 'injected env'));
  });
}

// The names come from one module (sidecar/core/env-names.ts); this checks
// that each one the injector writes is also in the list the config parser
// accepts, for every kind of variable the injector can write.
const variableRows: { name: string; annotations: Record<string, string> }[] = [
  { name: 'defaults', annotations: {} },
  { name: 'policy ConfigMap and log level', annotations: { 'spiffe-sidecar.io/policy-configmap': 'backend-policy', 'spiffe-sidecar.io/log-level': 'debug' } },
  { name: 'no outbound', annotations: { 'spiffe-sidecar.io/intercept-outbound': 'false' } },
];
for (const r of variableRows) {
  test(`the variables an injected pod gets are the ones the config reads: ${r.name}`, () => {
    const names = Object.keys(sidecarEnv(r.annotations));
    assert.ok(names.length > 0);
    const unknown = names.filter((n) => n !== ENV_ENDPOINT_SOCKET && !CONFIG_ENV_VARS.includes(n));
    assert.deepEqual(unknown, []);
  });
}
