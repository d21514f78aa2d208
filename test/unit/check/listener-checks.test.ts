import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { checkConfig, checkListenersLive, checkListenersPreflight, checkReadyz, listenersFromDebugConfig, trialBinds } from '../../../sidecar/check/index.ts';
import type { Config } from '../../../sidecar/config/index.ts';

test('listeners (pre-flight): ok when every address binds', () => {
  const r = checkListenersPreflight([{ name: 'admin', address: '127.0.0.1:15020', error: undefined }]);
  assert.equal(r.status, 'ok');
});
const rows: [string, RegExp][] = [
  ['EADDRINUSE', /already listens/],
  ['EACCES', /below 1024/],
  ['EADDRNOTAVAIL', /no interface/],
];
for (const [code, fix] of rows) {
  test(`listeners (pre-flight): fails on ${code} with its fix`, () => {
    const r = checkListenersPreflight([{ name: 'inbound', address: '10.9.9.9:80', error: code }]);
    assert.equal(r.status, 'fail');
    assert.match(r.detail, new RegExp(`inbound 10\\.9\\.9\\.9:80: cannot bind \\(${code}\\)`));
    assert.match(r.fix, fix);
  });
}
test('listeners (pre-flight): trialBinds finds an address already taken', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0 }, resolve));
  after(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const text = `spiffe:\n  endpointSocket: unix:///run/agent.sock\noutbound:\n  listen: 127.0.0.1:${port}\nadmin:\n  listen: 127.0.0.1:${port === 65535 ? 65534 : port + 1}\n`;
  const config = checkConfig({ source: 'c.yaml', text }, {}).config as Config;
  const trials = await trialBinds(config);
  assert.equal(trials.find((t) => t.name === 'outbound')?.error, 'EADDRINUSE');
});

test('listeners (live): ok when all are bound', () => assert.equal(checkListenersLive([{ name: 'inbound', address: '0.0.0.0:15006', bound: true }]).status, 'ok'));
test('listeners (live): fails naming the unbound listener', () => {
  const r = checkListenersLive([
    { name: 'admin', address: '127.0.0.1:15020', bound: true },
    { name: 'inbound', address: '0.0.0.0:15006', bound: false },
  ]);
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /not bound: inbound 0\.0\.0\.0:15006$/);
});
test('listeners (live): fails when the listeners cannot be listed', () => assert.equal(checkListenersLive({ error: 'ECONNREFUSED' }).status, 'fail'));
test('listeners (live): reads listen addresses from /debug/config', () => {
  const doc = { admin: { listen: '127.0.0.1:1' }, inbound: { listen: '0.0.0.0:2' }, outbound: null, tcp: [{ name: 'db', direction: 'outbound', listen: '127.0.0.1:3' }] };
  assert.deepEqual(listenersFromDebugConfig(doc), [
    { name: 'admin', address: '127.0.0.1:1' },
    { name: 'inbound', address: '0.0.0.0:2' },
    { name: 'tcp-outbound:db', address: '127.0.0.1:3' },
  ]);
});

test('sidecar-ready: ok on 200', () => assert.equal(checkReadyz({ status: 200, body: 'ready\n' }, 'http://a').status, 'ok'));
test('sidecar-ready: fails on 503 with the reasons', () => {
  const r = checkReadyz({ status: 503, body: 'no SVID yet\ninbound listener not bound yet (0.0.0.0:15006)\n' }, 'http://a');
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /503: no SVID yet; inbound listener not bound/);
});
test('sidecar-ready: fails when the admin listener does not answer', () => assert.match(checkReadyz({ error: 'connect ECONNREFUSED' }, 'http://a').detail, /no answer from http:\/\/a/));
