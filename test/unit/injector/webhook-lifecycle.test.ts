/**
 * The webhook server's life: it starts once (idle → starting → listening),
 * stops once (→ stopped, safe to repeat), returns to idle when a start
 * fails, and installs a changed certificate only while it listens. The
 * requests themselves are tested over real TLS in
 * test/integration/injector/webhook.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { injectionSettings } from '../../../sidecar/injector/index.ts';
import { InjectorError } from '../../../sidecar/injector/injector-error.ts';
import { WebhookServer } from '../../../sidecar/injector/webhook-server.ts';
import { toPem } from '../../../sidecar/x509/index.ts';
import { makeLeaf } from '../../support/certs.ts';

/** A self-signed certificate and key in a temp dir removed after the test. */
function certificateFiles(t: { after(fn: () => void): void }): { certFile: string; keyFile: string; rewrite(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-life-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const write = (): void => {
    const leaf = makeLeaf('self', 'spiffe://example.org/webhook');
    writeFileSync(certFile, toPem(leaf.der, 'CERTIFICATE'));
    writeFileSync(keyFile, toPem(leaf.keyPkcs8Der, 'PRIVATE KEY'));
  };
  write();
  return { certFile, keyFile, rewrite: write };
}

function server(files: { certFile: string; keyFile: string }, port = 0): WebhookServer {
  const settings = injectionSettings({ image: 'spiffe-sidecar:test' });
  return new WebhookServer({ listen: { host: '127.0.0.1', port }, ...files, settings, clock: new ManualClock(0) });
}

function isCode(code: string): (err: unknown) => boolean {
  return (err) => err instanceof InjectorError && err.code === code;
}

test('start() listens once: a second start() is refused and the server stays listening', async (t) => {
  const s = server(certificateFiles(t));
  t.after(() => s.stop());
  assert.equal(s.state, 'idle');
  const { port } = await s.start();
  assert.ok(port > 0);
  assert.equal(s.state, 'listening');
  await assert.rejects(s.start(), isCode('injector.already_started'));
  assert.equal(s.state, 'listening');
});

test('stop() is final and safe to repeat; start() after it is refused', async (t) => {
  const s = server(certificateFiles(t));
  await s.start();
  await s.stop();
  assert.equal(s.state, 'stopped');
  await s.stop();
  await assert.rejects(s.start(), isCode('injector.already_started'));
});

test('stop() before start(): nothing to close, and the server never listens', async (t) => {
  const s = server(certificateFiles(t));
  await s.stop();
  assert.equal(s.state, 'stopped');
  await assert.rejects(s.start(), isCode('injector.already_started'));
});

test('a start that fails leaves the server idle, with the reason as the code', async (t) => {
  const files = certificateFiles(t);
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => taken.close(() => r())));
  const busy = (taken.address() as { port: number }).port;
  for (const row of [
    { name: 'missing certificate', s: server({ certFile: join(tmpdir(), 'no-such-dir', 'tls.crt'), keyFile: files.keyFile }), code: 'injector.certificate_invalid' },
    { name: 'port in use', s: server(files, busy), code: 'injector.listen_failed' },
  ]) {
    await assert.rejects(row.s.start(), isCode(row.code), row.name);
    assert.equal(row.s.state, 'idle', row.name);
  }
});

test('checkCertificate() installs a changed pair only while listening', async (t) => {
  const files = certificateFiles(t);
  const s = server(files);
  files.rewrite();
  assert.equal(await s.checkCertificate(), false, 'before start there is nothing to install into');
  await s.start();
  assert.equal(await s.checkCertificate(), false, 'unchanged files');
  files.rewrite();
  assert.equal(await s.checkCertificate(), true, 'changed files');
  await s.stop();
  files.rewrite();
  assert.equal(await s.checkCertificate(), false, 'after stop');
});
