/**
 * The admin listener seen from outside the process: curl for each endpoint,
 * and the loopback-only rule proven with a real connection from a
 * non-loopback address of this machine.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import { createAdminServer, type AdminServer } from '../../../sidecar/admin/index.ts';
import { SidecarMetrics } from '../../../sidecar/metrics/index.ts';
import { requireTools } from '../../support/tools.ts';

const run = promisify(execFile);

/** A non-internal address of this machine per family, if any (link-local IPv6 skipped: it needs a scope). */
function externalAddress(family: 'IPv4' | 'IPv6'): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === family && !a.address.startsWith('fe80:')) return a.address;
    }
  }
  return undefined;
}

/** curl never runs synchronously: the server under test lives in this process's event loop. */
async function curl(args: string[]): Promise<{ status: number; body: string; headers: string }> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-D', '-', '-w', '\n%{http_code}', ...args]);
  const lines = stdout.split('\n');
  const status = Number(lines.pop());
  const text = lines.join('\n');
  const split = text.indexOf('\r\n\r\n');
  return { status, headers: text.slice(0, split), body: text.slice(split + 4) };
}

function get(url: string, localAddress: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function adminOn(host: string): AdminServer {
  const metrics = new SidecarMetrics();
  let ready = false;
  return createAdminServer({
    listen: { host, port: 0 },
    metrics,
    readiness: () => {
      // Flips to ready after the first probe, like a sidecar whose SVID arrives.
      const r = { ready, reasons: ready ? [] : ['waiting for the first X509-SVID'] };
      ready = true;
      return r;
    },
    debug: { svid: () => ({ id: 'spiffe://example.org/me' }), config: () => ({ admin: { listen: `${host}:0` } }) },
  });
}

let server: AdminServer;
let base: string;
before(async () => {
  server = adminOn('127.0.0.1');
  base = `http://127.0.0.1:${(await server.start()).port}`;
});
after(() => server.stop());

test('admin endpoints over curl (127.0.0.1): healthz, readyz (flipping), metrics, debug, 404, 405, draining', async (t) => {
  if (!requireTools(t, ['curl'])) return;
  assert.deepEqual(await curl([`${base}/healthz`]).then((r) => [r.status, r.body]), [200, 'ok\n']);
  assert.deepEqual(await curl([`${base}/readyz`]).then((r) => [r.status, r.body]), [503, 'waiting for the first X509-SVID\n']);
  assert.deepEqual(await curl([`${base}/readyz`]).then((r) => [r.status, r.body]), [200, 'ready\n']);

  const m = await curl([`${base}/metrics`]);
  assert.equal(m.status, 200);
  assert.match(m.headers, /^content-type: text\/plain; version=0\.0\.4; charset=utf-8\r?$/im);
  assert.match(m.body, /^# TYPE sidecar_requests_total counter$/m);
  assert.match(m.body, /^process_cpu_user_seconds_total /m);

  const d = await curl([`${base}/debug/svid`]);
  assert.equal(d.status, 200);
  assert.deepEqual(JSON.parse(d.body), { id: 'spiffe://example.org/me' });

  assert.equal((await curl([`${base}/nope`])).status, 404);
  const post = await curl(['-X', 'POST', `${base}/healthz`]);
  assert.equal(post.status, 405);
  assert.match(post.headers, /^allow: GET, HEAD\r?$/im);
  assert.equal((await curl(['-I', `${base}/healthz`])).status, 200);

  server.setDraining();
  assert.deepEqual(await curl([`${base}/readyz`]).then((r) => [r.status, r.body]), [503, 'draining\n']);
});

for (const family of ['IPv4', 'IPv6'] as const) {
  const external = externalAddress(family);
  const wildcard = family === 'IPv4' ? '0.0.0.0' : '::';
  const loop = family === 'IPv4' ? '127.0.0.1' : '::1';
  const hostPart = (a: string): string => (family === 'IPv6' ? `[${a}]` : a);
  let server: AdminServer;
  let port = 0;
  before(async () => {
    server = adminOn(wildcard);
    ({ port } = await server.start());
  });
  after(() => server.stop());

  test(`debug endpoints refuse a non-loopback peer (${family}): from ${external ?? '(none)'}: debug 403, probes and metrics 200; from ${loop}: debug 200`, async (t) => {
    if (external === undefined) {
      // The pure classification is covered by test/unit/admin/loopback-peer.test.ts.
      t.skip(`this machine has no non-loopback ${family} address`);
      return;
    }
    const outside = (path: string) => get(`http://${hostPart(external)}:${port}${path}`, external);
    const debug = await outside('/debug/config');
    assert.equal(debug.status, 403);
    assert.match(debug.body, /only to loopback clients/);
    assert.equal((await outside('/debug/svid')).status, 403);
    assert.equal((await outside('/healthz')).status, 200);
    assert.equal((await outside('/metrics')).status, 200);
    assert.equal((await get(`http://${hostPart(loop)}:${port}/debug/config`, loop)).status, 200);
  });

  if (family === 'IPv6') {
    test(`debug endpoints refuse a non-loopback peer (${family}): a dual-stack [::] listener sees IPv4 peers as ::ffff:a.b.c.d and classifies them the same way`, async (t) => {
      const v4 = externalAddress('IPv4');
      if (v4 === undefined) {
        t.skip('this machine has no non-loopback IPv4 address');
        return;
      }
      assert.equal((await get(`http://${v4}:${port}/debug/config`, v4)).status, 403);
      assert.equal((await get(`http://127.0.0.1:${port}/debug/config`, '127.0.0.1')).status, 200);
    });
  }

  test(`debug endpoints refuse a non-loopback peer (${family}): the same with curl --interface`, async (t) => {
    if (external === undefined) {
      t.skip(`this machine has no non-loopback ${family} address`);
      return;
    }
    if (!requireTools(t, ['curl'])) return;
    const url = `http://${hostPart(external)}:${port}/debug/svid`;
    assert.equal((await curl(['--interface', external, url])).status, 403);
    assert.equal((await curl([`http://${hostPart(loop)}:${port}/debug/svid`])).status, 200);
  });
}
