/**
 * Interop: `openssl s_server -Verify 1 -www` as an mTLS upstream of the
 * outbound listener. OpenSSL demands our client certificate and verifies it
 * against the CA file; we verify its SVID against our bundle and the
 * upstream's expected ID.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { matchId } from '../../../sidecar/spiffe/index.ts';
import { requireTools } from '../../support/tools.ts';
import { startOutbound } from '../../support/outbound-fixture.ts';
import { Cleanup, TD, deadPort, h1Request, id, makePki, pemOf, rootsPem, sourceFor, svidFor, type Pki } from '../../support/proxy-fixtures.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let dir: string;

before(async () => {
  pki = await makePki();
  dir = mkdtempSync(join(tmpdir(), 'openssl-interop-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  const server = pemOf(await svidFor(pki.ca, `spiffe://${TD}/backend`));
  writeFileSync(join(dir, 'server.pem'), server.cert);
  writeFileSync(join(dir, 'server.key'), server.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.pem'), rootsPem(pki.bundles));
});

/** Starts s_server on a free port and resolves once it accepts. */
async function sServer(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await deadPort();
  const proc = spawn(
    'openssl',
    ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', join(dir, 'server.pem'), '-key', join(dir, 'server.key'), '-CAfile', join(dir, 'ca.pem'), '-Verify', '1', '-www'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanup.add(() => proc.kill());
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ACCEPT')) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`s_server exited with ${code}: ${out}`)));
  });
  return { port, proc };
}

async function outboundTo(port: number, serverId: string): Promise<number> {
  const frontend = await sourceFor(pki.ca, `spiffe://${TD}/frontend`, pki.bundles);
  return startOutbound(cleanup, frontend, {
    upstreams: [{ host: 'backend', address: { host: '127.0.0.1', port }, server: matchId(id(serverId)), protocol: 'http1' }],
  });
}

test('outbound → openssl s_server (client certificate required): 200 with the s_server status page', (t) => {
  if (!requireTools(t, ['openssl'])) return;
  return (async () => {
    const s = await sServer();
    const port = await outboundTo(s.port, `spiffe://${TD}/backend`);
    const r = await h1Request(port, { headers: { host: 'backend' } });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /s_server/);
    // s_server -www shows the client certificate it verified: ours.
    assert.match(r.body, /Client certificate/);
  })();
});

test('outbound → openssl s_server with an unexpected ID: 502 naming both IDs', (t) => {
  if (!requireTools(t, ['openssl'])) return;
  return (async () => {
    const s = await sServer();
    const port = await outboundTo(s.port, `spiffe://${TD}/somebody-else`);
    const r = await h1Request(port, { headers: { host: 'backend' } });
    assert.equal(r.status, 502);
    assert.equal(r.body.trim(), `upstream identity mismatch: expected spiffe://${TD}/somebody-else, presented spiffe://${TD}/backend`);
  })();
});
