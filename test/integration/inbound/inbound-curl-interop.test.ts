/**
 * Interop: curl (OpenSSL) as a client of the inbound listener, with the PEM
 * files of CA-issued SVIDs. The server SVID carries the DNS SAN `localhost`
 * so curl's own hostname check passes without -k.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTools } from '../../support/tools.ts';
import { Cleanup, TD, makePki, pemOf, rootsPem, sourceFor, startH1App, svidFor, type Pki } from '../../support/proxy-fixtures.ts';
import { startInbound } from '../../support/inbound-fixture.ts';

const run = promisify(execFile);
const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let dir: string;
let port: number;
let app: Awaited<ReturnType<typeof startH1App>>;

before(async () => {
  pki = await makePki();
  dir = mkdtempSync(join(tmpdir(), 'curl-interop-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  const server = await sourceFor(pki.ca, `spiffe://${TD}/backend`, pki.bundles, ['localhost']);
  const client = pemOf(await svidFor(pki.ca, `spiffe://${TD}/curl`));
  writeFileSync(join(dir, 'client.pem'), client.cert);
  writeFileSync(join(dir, 'client.key'), client.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.pem'), rootsPem(pki.bundles));
  app = await startH1App(cleanup);
  port = await startInbound(cleanup, server, app.port);
});

function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return run('curl', ['-sS', '-4', '--max-time', '10', ...args], { encoding: 'utf8' }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
  );
}

for (const proto of ['--http1.1', '--http2'] as const) {
  test(`curl ${proto} with a client SVID reaches the app with its identity`, (t) => {
    if (!requireTools(t, ['curl'])) return;
    return (async () => {
      const r = await curl([
        proto,
        '--cert', join(dir, 'client.pem'),
        '--key', join(dir, 'client.key'),
        '--cacert', join(dir, 'ca.pem'),
        '-H', 'x-client-spiffe-id: spiffe://example.org/forged',
        '-w', '\n%{http_code} %{http_version}',
        `https://localhost:${port}/via-curl`,
      ]);
      assert.equal(r.code, 0, r.stdout);
      const [body, status] = r.stdout.split('\n');
      assert.equal(status, `200 ${proto === '--http2' ? '2' : '1.1'}`);
      const echoed = JSON.parse(body!) as { url: string; headers: Record<string, string> };
      assert.equal(echoed.url, '/via-curl');
      assert.equal(echoed.headers['x-client-spiffe-id'], `spiffe://${TD}/curl`);
    })();
  });
}

test('curl without a client certificate is refused', (t) => {
  if (!requireTools(t, ['curl'])) return;
  return (async () => {
    const seen = app.seen.length;
    const r = await curl(['--cacert', join(dir, 'ca.pem'), `https://localhost:${port}/no-cert`]);
    assert.notEqual(r.code, 0);
    assert.equal(app.seen.length, seen);
  })();
});
