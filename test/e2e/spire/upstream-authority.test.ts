/**
 * Real SPIRE v1.15.3 behind an UpstreamAuthority: the `disk` plugin with a
 * root CA this test makes with openssl, so every SVID SPIRE issues comes as
 * leaf + SPIRE's intermediate CA while the trust bundle holds only the root.
 * Two workloads, each a `spiffe-sidecar run` process under its own uid
 * (told apart by `unix:uid:<n>` selectors), talk mTLS through the sidecars:
 * frontend outbound → backend inbound → an echo app. Needs root, Go and a C
 * compiler (to build SPIRE once) and openssl; under CI=true a missing
 * requirement fails the test.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { X509Bundle, X509BundleSet } from '../../../sidecar/bundle/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { decodeCertificate, parsePemCertificates, splitDerCertificates, verifyX509SvidChain } from '../../../sidecar/svid/index.ts';
import { requireTools } from '../../support/tools.ts';
import { freePorts, httpCall } from '../../support/sidecar-harness.ts';
import { assertReachableByOthers, nodeBin, projectRoot, run, runAs, spawnAs, startSpire, type Credentials } from '../../support/spire.ts';

const td = 'example.org';
const FRONTEND_ID = `spiffe://${td}/upstream/frontend`;
const BACKEND_ID = `spiffe://${td}/upstream/backend`;
const frontendUid: Credentials = { uid: 1012, gid: 1012 };
const backendUid: Credentials = { uid: 1011, gid: 1011 };

/** Makes a self-signed EC P-256 root CA with openssl (cert + PKCS#8 key), as an operator would for the disk plugin. */
async function makeUpstreamRoot(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = join(dir, 'upstream.key');
  const certFile = join(dir, 'upstream.crt');
  const steps: string[][] = [
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile],
    [
      'req', '-x509', '-new', '-key', keyFile, '-days', '2', '-subj', '/O=Upstream Test/CN=upstream root',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', `subjectAltName=URI:spiffe://${td}`,
      '-out', certFile,
    ],
  ];
  for (const args of steps) {
    const r = await run('openssl', args);
    if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  }
  return { certFile, keyFile };
}

/** A `spiffe-sidecar run` process under a test uid, with its output kept for failure reports. */
class SidecarAs {
  readonly lines: string[] = [];
  readonly #proc: ChildProcess;

  constructor(who: Credentials, configFile: string) {
    this.#proc = spawnAs(who, nodeBin, ['--disable-warning=ExperimentalWarning', 'sidecar/cli/main.ts', 'run', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [this.#proc.stdout!, this.#proc.stderr!]) createInterface({ input: s }).on('line', (l) => this.lines.push(l));
  }

  get exited(): boolean {
    return this.#proc.exitCode !== null || this.#proc.signalCode !== null;
  }

  /** Polls /readyz on the admin port until 200 (the sidecar has its SVID and listeners). */
  async waitReady(adminPort: number, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (this.exited) throw new Error(`sidecar exited:\n${this.lines.slice(-30).join('\n')}`);
      const r = await httpCall(adminPort, '/readyz', { timeoutMs: 2_000 }).catch(() => undefined);
      if (r?.status === 200) return;
      await sleep(250);
    }
    throw new Error(`sidecar not ready after ${ms} ms:\n${this.lines.slice(-30).join('\n')}`);
  }

  stop(): void {
    if (!this.exited) this.#proc.kill('SIGKILL');
  }
}

/** An app on 127.0.0.1 that answers every request with the headers it received, as JSON. */
async function echoApp(t: TestContext): Promise<number> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ url: req.url, headers: req.headers })));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

test('SPIRE v1.15.3 with the disk UpstreamAuthority: chained SVIDs, mTLS between two sidecars', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['go', 'cc', 'openssl'], { root: true })) return;
  assertReachableByOthers([
    { path: nodeBin, exec: true },
    { path: join(projectRoot, 'sidecar', 'cli', 'main.ts') },
    { path: join(projectRoot, 'sidecar', 'workload', 'proto', 'workload.proto') },
    { path: join(projectRoot, 'node_modules', '@grpc', 'grpc-js', 'package.json') },
    { path: join(projectRoot, 'node_modules', 'yaml', 'package.json') },
  ]);
  // The upstream key stays root-only (the SPIRE server runs as root); the
  // sidecar configs must be readable by the workload uids.
  const keysDir = mkdtempSync(join(tmpdir(), 'upstream-ca-'));
  const confDir = mkdtempSync(join(tmpdir(), 'upstream-conf-'));
  chmodSync(confDir, 0o755);
  t.after(() => {
    rmSync(keysDir, { recursive: true, force: true });
    rmSync(confDir, { recursive: true, force: true });
  });
  const upstream = await makeUpstreamRoot(keysDir);
  const rootDer = parsePemCertificates(readFileSync(upstream.certFile, 'utf8'))[0]!;

  const spire = await startSpire({ trustDomain: td, upstreamAuthority: upstream });
  const sidecars: SidecarAs[] = [];
  t.after(async () => {
    for (const s of sidecars) s.stop();
    await spire.stop();
  });
  // On failure the SPIRE and sidecar logs are the first thing to read.
  const withLogs = (fn: (st: TestContext) => Promise<void>) => async (st: TestContext) => {
    try {
      await fn(st);
    } catch (err) {
      st.diagnostic(spire.logTail(60));
      for (const s of sidecars) st.diagnostic(s.lines.slice(-30).join('\n'));
      throw err;
    }
  };

  await t.test(
    'the trust bundle is the upstream root only',
    withLogs(async () => {
      const bundle = parsePemCertificates(await spire.bundlePem());
      assert.equal(bundle.length, 1);
      assert.ok(bundle[0]!.equals(rootDer), 'spire-server bundle show prints the openssl root');
    }),
  );

  await spire.createEntry({ spiffeId: BACKEND_ID, selectors: [`unix:uid:${backendUid.uid}`] });
  await spire.createEntry({ spiffeId: FRONTEND_ID, selectors: [`unix:uid:${frontendUid.uid}`] });

  await t.test(
    "a workload's SVID is leaf + SPIRE's intermediate, which the upstream root signed",
    withLogs(async () => {
      // The agent may need a sync tick before it serves the new entry.
      let fetched: { svids: { spiffe_id: string; x509_svid: string }[] } | undefined;
      for (let i = 0; i < 60 && !fetched; i++) {
        const r = await runAs(frontendUid, spire.agentBin, ['api', 'fetch', 'x509', '-socketPath', spire.socketPath, '-output', 'json']);
        if (r.code === 0) fetched = JSON.parse(r.stdout) as typeof fetched;
        else await sleep(500);
      }
      assert.ok(fetched, 'spire-agent api fetch never succeeded');
      const svid = fetched.svids.find((s) => s.spiffe_id === FRONTEND_ID);
      assert.ok(svid);
      const chain = splitDerCertificates(Buffer.from(svid.x509_svid, 'base64'));
      assert.equal(chain.length, 2, 'leaf and intermediate');
      const [leaf, intermediate] = chain.map((d) => decodeCertificate(d)) as [ReturnType<typeof decodeCertificate>, ReturnType<typeof decodeCertificate>];
      const root = decodeCertificate(rootDer);
      assert.equal(intermediate.isCa, true);
      assert.ok(!intermediate.der.equals(rootDer));
      assert.ok(leaf.x509.verify(intermediate.publicKey));
      assert.ok(intermediate.x509.verify(root.publicKey));
      // Our verifier, as a peer runs it: through the intermediate to the bundle's root.
      const bundles = X509BundleSet.of([X509Bundle.fromCertificates(TrustDomain.parse(td), [root])]);
      const verified = verifyX509SvidChain(chain, bundles);
      assert.equal(verified.id.toString(), FRONTEND_ID);
      assert.equal(verified.verifiedChain.length, 3);
    }),
  );

  await t.test(
    'frontend sidecar (uid 1012) → mTLS → backend sidecar (uid 1011) → app: both verify the other through its intermediate',
    withLogs(async (st) => {
      const appPort = await echoApp(st);
      const [inboundPort, outboundPort, backendAdmin, frontendAdmin] = (await freePorts(4)) as [number, number, number, number];
      const write = (name: string, config: Record<string, unknown>): string => {
        const file = join(confDir, name);
        writeFileSync(file, stringify({ log: { level: 'info' }, spiffe: { endpointSocket: spire.socketAddress }, ...config }), { mode: 0o644 });
        return file;
      };
      const backend = new SidecarAs(
        backendUid,
        write('backend.yaml', { inbound: { listen: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${appPort}` }, admin: { listen: `127.0.0.1:${backendAdmin}` } }),
      );
      sidecars.push(backend);
      const frontend = new SidecarAs(
        frontendUid,
        write('frontend.yaml', {
          outbound: { listen: `127.0.0.1:${outboundPort}`, upstreams: [{ host: 'backend', address: `127.0.0.1:${inboundPort}`, serverId: BACKEND_ID }] },
          admin: { listen: `127.0.0.1:${frontendAdmin}` },
        }),
      );
      sidecars.push(frontend);
      await backend.waitReady(backendAdmin, 60_000);
      await frontend.waitReady(frontendAdmin, 60_000);

      const r = await httpCall(outboundPort, '/through-the-mesh', { headers: { host: 'backend' } });
      assert.equal(r.status, 200, r.body);
      const echo = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
      assert.equal(echo.url, '/through-the-mesh');
      // The backend sidecar authenticated the frontend's chained SVID and says so to its app.
      assert.equal(echo.headers['x-client-spiffe-id'], FRONTEND_ID);
      assert.match(echo.headers['x-forwarded-client-cert'] ?? '', new RegExp(`^By=${BACKEND_ID};Hash=[0-9a-f]{64};URI=${FRONTEND_ID}$`));
      // Neither side refused a handshake on the way.
      for (const s of [backend, frontend]) assert.ok(!s.lines.some((l) => /peer refused|handshake failed/.test(l)), s.lines.join('\n'));
    }),
  );
});
