import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, redactedConfig } from '../../../sidecar/config/index.ts';

const config = parseConfig(
  {
    spiffe: { endpointSocket: 'unix:///run/agent.sock', trustDomain: 'example.org' },
    inbound: { listen: '[::]:15006', app: '127.0.0.1:8080' },
    outbound: { upstreams: [{ host: 'backend:8080', address: '10.0.0.5:15006', serverIds: ['spiffe://example.org/a'] }] },
  },
  {},
  'x.yaml',
);
const out = redactedConfig(config);

test('redactedConfig: is plain JSON: addresses as host:port, IDs and trust domains as strings', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
  assert.equal((out['spiffe'] as Record<string, unknown>)['trustDomain'], 'example.org');
  assert.deepEqual(out['inbound'], {
    listen: '[::]:15006',
    app: '127.0.0.1:8080',
    appProtocol: 'http1',
    appPorts: [],
    policy: { kind: 'sameTrustDomain' },
    webSocket: false,
    transparent: false,
    opaquePorts: [],
  });
  assert.deepEqual(out['outbound'], {
    listen: '127.0.0.1:15001',
    upstreams: [
      { host: 'backend', port: 8080, address: '10.0.0.5:15006', server: { kind: 'oneOf', ids: ['spiffe://example.org/a'] }, protocol: 'http1', webSocket: false, token: { mode: 'none', audience: null, scope: null } },
    ],
    transparent: null,
    tokenExchange: null,
  });
});

test('redactedConfig: is a copy: the frozen Config is not touched', () => {
  assert.notEqual(out, config);
  assert.equal(Object.isFrozen(out), false);
});
