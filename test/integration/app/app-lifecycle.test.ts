/**
 * buildSidecar in-process: what runs before the first SVID (admin and
 * outbound answer, inbound waits; outbound requests fail cleanly with 503),
 * stop() at any point, and lifecycle misuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSidecar } from '../../../sidecar/app.ts';
import { loadConfigText } from '../../../sidecar/config/index.ts';
import { silentLogger } from '../../../sidecar/core/index.ts';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { freePorts, httpCall, tempDir, viaOutbound } from '../../support/sidecar-harness.ts';

async function configFor(socket: string): Promise<{ yaml: string; ports: { inbound: number; outbound: number; admin: number } }> {
  const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
  const yaml = [
    'spiffe:',
    `  endpointSocket: ${socket}`,
    'inbound:',
    `  listen: 127.0.0.1:${inbound}`,
    '  app: 127.0.0.1:9',
    'outbound:',
    `  listen: 127.0.0.1:${outbound}`,
    '  upstreams:',
    `    - { host: backend, address: "127.0.0.1:${inbound}", serverId: "spiffe://example.org/workload" }`,
    'admin:',
    `  listen: 127.0.0.1:${admin}`,
    'drain:',
    '  timeout: 1s',
    '',
  ].join('\n');
  return { yaml, ports: { inbound, outbound, admin } };
}

test('before the first SVID: admin and outbound serve, inbound waits, requests get 503; stop() works', async (t) => {
  const dir = tempDir(t);
  const { yaml, ports } = await configFor(`unix://${dir}/nobody.sock`);
  const sidecar = buildSidecar(loadConfigText(yaml, {}, 'test'), { logger: silentLogger });
  t.after(() => sidecar.stop('test cleanup'));
  await sidecar.start();

  const state = sidecar.ready();
  assert.equal(state.ready, false);
  assert.match(state.reasons[0]!, /^no SVID yet/);
  assert.ok(state.reasons.includes(`inbound listener not bound yet (127.0.0.1:${ports.inbound})`), state.reasons.join('\n'));
  assert.deepEqual(
    sidecar.listeners().map((l) => [l.name, l.bound]),
    [
      ['admin', true],
      ['inbound', false],
      ['outbound', true],
    ],
  );
  const r = await viaOutbound(ports.outbound, '/x');
  assert.equal(r.status, 503);
  assert.match(r.body, /no SVID/);
  const debug = await httpCall(ports.admin, '/debug/svid');
  assert.deepEqual(JSON.parse(debug.body).svid, null);

  assert.deepEqual(await sidecar.stop('test'), { abandoned: 0 });
  await assert.rejects(httpCall(ports.admin, '/healthz'), /ECONNREFUSED/);
  await assert.rejects(sidecar.start(), { code: 'app.lifecycle' });
});

test('with an SVID: ready, debug shows it; stop() twice returns the same result', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const { yaml, ports } = await configFor(agent.address());
  const sidecar = buildSidecar(loadConfigText(yaml, {}, 'test'), { logger: silentLogger });
  t.after(() => sidecar.stop('test cleanup'));
  await sidecar.start();
  await assert.rejects(sidecar.start(), { code: 'app.lifecycle' });
  const until = Date.now() + 10_000;
  while (!sidecar.ready().ready && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(sidecar.ready(), { ready: true, reasons: [] });
  const debug = JSON.parse((await httpCall(ports.admin, '/debug/svid')).body) as { ready: boolean; svid: Record<string, unknown> };
  assert.equal(debug.ready, true);
  assert.equal(debug.svid['spiffeId'], 'spiffe://example.org/workload');
  assert.deepEqual(debug.svid['bundleTrustDomains'], ['example.org']);
  assert.match(String(debug.svid['serial']), /^[0-9A-F]+$/);
  assert.ok(!JSON.stringify(debug).includes('PRIVATE'), 'no key material');
  const config = JSON.parse((await httpCall(ports.admin, '/debug/config')).body) as { inbound: { listen: string } };
  assert.equal(config.inbound.listen, `127.0.0.1:${ports.inbound}`);

  const first = sidecar.stop('test');
  assert.equal(sidecar.stop('again'), first);
  assert.deepEqual(await first, { abandoned: 0 });
  assert.equal(sidecar.ready().ready, false);
});

test('inbound.appPorts and outbound.transparent reach the proxies: a Host no upstream routes is dialled by name, an IP literal is refused', async (t) => {
  const dir = tempDir(t);
  const { yaml, ports } = await configFor(`unix://${dir}/nobody.sock`);
  const configured = yaml
    .replace('  app: 127.0.0.1:9\n', '  app: 127.0.0.1:9\n  appPorts: [{ port: 9090, app: "127.0.0.1:19090", appProtocol: h2c }]\n')
    .replace('  upstreams:\n', '  transparent: { enabled: true }\n  upstreams:\n');
  const sidecar = buildSidecar(loadConfigText(configured, {}, 'test'), { logger: silentLogger });
  t.after(() => sidecar.stop('test cleanup'));
  await sidecar.start();
  // Decided before any SVID is needed: an address names no workload.
  const ip = await viaOutbound(ports.outbound, '/x', '10.0.0.5:8080');
  assert.equal(ip.status, 403);
  assert.match(ip.body, /names no workload/);
  // A name no upstream routes is dialled (here it fails for want of an SVID, not with 404).
  const byName = await viaOutbound(ports.outbound, '/x', 'elsewhere.demo.svc:8080');
  assert.equal(byName.status, 503);
  assert.match(byName.body, /no SVID/);
  const config = JSON.parse((await httpCall(ports.admin, '/debug/config')).body) as { inbound: { appPorts: unknown }; outbound: { transparent: { server: unknown; ports: unknown } } };
  assert.deepEqual(config.inbound.appPorts, [{ port: 9090, app: '127.0.0.1:19090', appProtocol: 'h2c' }]);
  assert.equal(config.outbound.transparent.server, null);
  assert.equal(config.outbound.transparent.ports, null);
});
