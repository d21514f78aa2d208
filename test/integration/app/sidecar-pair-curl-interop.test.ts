/**
 * Interop: curl (OpenSSL) as a caller of a real sidecar's inbound listener,
 * with the PEM files `spiffe-sidecar svid --write DIR` wrote for a caller
 * identity from the dev agent. The sidecar verifies curl's X509-SVID,
 * applies the policy to its SPIFFE ID and tells the app who called.
 *
 * Dev-agent SVIDs carry only the SPIFFE ID (URI SAN), so curl's hostname
 * check cannot pass; curl runs with -k but pins the backend SVID's public
 * key, which curl checks regardless, so it still refuses any other server.
 * (`openssl s_server` as an upstream of the outbound listener is covered
 * in test/integration/outbound/outbound-openssl-interop.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { WorkloadApiClient } from '../../../sidecar/workload/index.ts';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { freePorts, runCli, startSidecar, tempDir } from '../../support/sidecar-harness.ts';
import { requireTools } from '../../support/tools.ts';
import { BACKEND_ID, TD, startEchoApp, type Echo } from '../../support/app-fixtures.ts';

const run = promisify(execFile);
const CURL_ID = `spiffe://${TD}/curl`;
const STRANGER_ID = `spiffe://${TD}/stranger`;

/** curl's --pinnedpubkey value for the SVID served on `address`: sha256// + base64 of the SPKI hash. */
async function pinOf(address: string): Promise<string> {
  const client = new WorkloadApiClient({ address });
  try {
    const ctx = await client.fetchX509Context();
    const spki = new X509Certificate(ctx.svids[0]!.certificates[0]!.der).publicKey.export({ format: 'der', type: 'spki' });
    return `sha256//${createHash('sha256').update(spki).digest('base64')}`;
  } finally {
    client.close();
  }
}

test('curl with `svid --write` files calls the inbound listener: allowed by SPIFFE ID, identity headers set', async (t) => {
  if (!requireTools(t, ['curl'])) return;
  const dir = tempDir(t);
  const agent = await startDevAgent({ cleanup: t, workloads: { backend: [BACKEND_ID], curl: [CURL_ID], stranger: [STRANGER_ID] } });
  const app = await startEchoApp(t);
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, stringify({ version: 1, rules: [{ name: 'curl-reads', from: [{ id: CURL_ID }], to: [{ methods: ['GET'], pathPrefixes: ['/'] }] }] }));
  const [inboundPort] = (await freePorts(1)) as [number];
  await startSidecar({
    cleanup: t,
    config: { spiffe: { endpointSocket: agent.address('backend') }, inbound: { listen: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${app.port}`, policyFile } },
  });
  const pin = await pinOf(agent.address('backend'));

  const write = async (name: string): Promise<string> => {
    const out = join(dir, name);
    const r = await runCli(['svid', '--socket', agent.address(name), '--write', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(join(out, 'svid_key.pem')).mode & 0o777, 0o600);
    return out;
  };
  const curl = async (files: string, proto: string, extra: string[] = []): Promise<{ code: number; stdout: string }> =>
    run('curl', ['-sS', '-k', '--pinnedpubkey', pin, proto, '--max-time', '10', '--cert', join(files, 'svid.pem'), '--key', join(files, 'svid_key.pem'), ...extra, `https://127.0.0.1:${inboundPort}/hello`], {
      encoding: 'utf8',
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );

  const curlFiles = await write('curl');
  for (const proto of ['--http1.1', '--http2']) {
    const r = await curl(curlFiles, proto, ['-H', 'x-client-spiffe-id: spiffe://example.org/admin', '-w', '\n%{http_code} %{http_version}']);
    assert.equal(r.code, 0, r.stdout);
    const [json, status] = r.stdout.split('\n');
    assert.equal(status, proto === '--http2' ? '200 2' : '200 1.1', r.stdout);
    const seen = (JSON.parse(json!) as Echo).headers;
    assert.equal(seen['x-client-spiffe-id'], CURL_ID, 'the verified ID replaced the one curl sent');
    assert.match(String(seen['x-forwarded-client-cert']), new RegExp(`^By=${BACKEND_ID};Hash=[0-9a-f]{64};URI=${CURL_ID}$`));
  }

  const strangerFiles = await write('stranger');
  const denied = await curl(strangerFiles, '--http1.1', ['-o', '/dev/null', '-w', '%{http_code}']);
  assert.equal(denied.stdout, '403', 'a valid SVID the policy does not list is refused');

  const wrongPin = await run('curl', ['-sS', '-k', '--pinnedpubkey', 'sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', '--cert', join(curlFiles, 'svid.pem'), '--key', join(curlFiles, 'svid_key.pem'), `https://127.0.0.1:${inboundPort}/hello`]).then(
    () => 0,
    (e: { code?: number }) => e.code ?? -1,
  );
  assert.equal(wrongPin, 90, 'curl checks the pinned key despite -k (exit 90: SSL public key mismatch)');
  assert.equal(app.count(), 2, 'only the two allowed requests reached the app');
});
