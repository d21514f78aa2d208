/**
 * The fallback sidecar's postStart hook, run for real: it must return 0
 * once /readyz answers 200 and 1 when the deadline passes, since the
 * kubelet holds the app containers until it returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyJsonPatch, injectPod, injectionSettings, type JsonObject } from '../../../sidecar/injector/index.ts';

function hookCommand(adminPort: number, readyWaitSeconds: number): string[] {
  const settings = injectionSettings({ image: 'spiffe-sidecar:0.1.0', nativeSidecar: false, adminPort, readyWaitSeconds });
  const pod: JsonObject = { metadata: { annotations: { 'spiffe-sidecar.io/inject': 'true' } }, spec: { containers: [{ name: 'app', image: 'a' }] } };
  const out = applyJsonPatch(pod, injectPod(pod, { settings }).patch);
  const sidecar = ((out['spec'] as JsonObject)['containers'] as JsonObject[])[0]!;
  return (((sidecar['lifecycle'] as JsonObject)['postStart'] as JsonObject)['exec'] as JsonObject)['command'] as string[];
}

function runHook(cmd: string[]): Promise<number> {
  assert.equal(cmd[0], 'node');
  return new Promise((resolve) => {
    execFile(process.execPath, cmd.slice(1), { timeout: 30_000 }, (err) => resolve(err ? (typeof err.code === 'number' ? err.code : -1) : 0));
  });
}

test('returns 0 after /readyz turns 200', async (t) => {
  let calls = 0;
  const srv = createServer((req, res) => {
    calls++;
    res.writeHead(req.url === '/readyz' && calls >= 3 ? 200 : 503).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const code = await runHook(hookCommand((srv.address() as AddressInfo).port, 20));
  assert.equal(code, 0);
  assert.ok(calls >= 3);
});

test('returns 1 when nothing becomes ready before the deadline', async (t) => {
  const srv = createServer((_req, res) => res.writeHead(503).end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  assert.equal(await runHook(hookCommand((srv.address() as AddressInfo).port, 1)), 1);
});

test('returns 1 when nothing listens', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  assert.equal(await runHook(hookCommand(port, 1)), 1);
});
