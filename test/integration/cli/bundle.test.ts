/**
 * The bundle production runs (bin/build.js, docs/decisions/019): built from
 * the sources into a temporary folder two levels under the repository (the
 * depth the code's import.meta.url paths expect), then run as real
 * processes. What a bundle can break and the source tests cannot see: a
 * lazily imported chunk that fails to load (undici for discovery and the
 * token exchange, the JWT verifier), a CommonJS dependency that needs a real
 * `require`, files found relative to the module (package.json), and the
 * Node version check that must run before anything else is evaluated.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildBundle } from '../../../bin/build.js';
import { isSupportedNode, SUPPORTED_NODE_RANGE } from '../../../sidecar/cli/node-support.ts';
import { startDevAgent, type InProcessAgent } from '../../support/dev-agent-harness.ts';
import { JWT_RESOURCE, OPAQUE_RESOURCE, startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';
import { freePorts, startSidecar, viaOutbound, type TestSidecar } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, startEchoApp, type Echo } from '../../support/app-fixtures.ts';
import { fileCleanup } from '../../support/file-cleanup.ts';
import { requireTools } from '../../support/tools.ts';
import { bundledNode, repo, systemNode } from './cli-process.ts';

const cleanup = fileCleanup();
let outdir: string;
let main: string;

before(async () => {
  // <repo>/.tmp/bundle-XXXX: two levels down, like dist/bin.
  const tmp = join(repo, '.tmp');
  mkdirSync(tmp, { recursive: true });
  outdir = mkdtempSync(join(tmp, 'bundle-'));
  await buildBundle(outdir);
  main = join(outdir, 'main.js');
});
after(() => rmSync(outdir, { recursive: true, force: true }));

test('the bundle is one entry plus chunks, and prints the same version facts as the sources', () => {
  const files = readdirSync(outdir);
  assert.ok(files.includes('main.js'));
  assert.ok(files.every((f) => /^(main|[\w-]+-[A-Z0-9]{8})\.js$|\.LEGAL\.txt$|^compile-cache$/.test(f)), files.join(' '));
  const fromBundle = spawnSync(bundledNode, [main, 'version', '--output', 'json'], { encoding: 'utf8' });
  const fromSources = spawnSync(bundledNode, [join(repo, 'sidecar', 'cli', 'main.ts'), 'version', '--output', 'json'], { encoding: 'utf8' });
  assert.equal(fromBundle.status, 0, fromBundle.stderr);
  assert.equal(fromBundle.stdout, fromSources.stdout);
});

test('the build leaves a compile cache for this uid that the bundle starts from (the sources use none)', () => {
  const uid = process.getuid?.() ?? 0;
  const subdirs = readdirSync(join(outdir, 'compile-cache'));
  assert.ok(
    subdirs.some((d) => d.startsWith(`v${process.versions.node}-${process.arch}-`) && d.endsWith(`-${uid}`)),
    subdirs.join(' '),
  );
  // Node's own trace of the cache (NODE_DEBUG_NATIVE=COMPILE_CACHE) is the
  // only outside view of whether V8 took the cached code.
  const env = { ...process.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
  const r = spawnSync(bundledNode, [main, 'version'], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /V8 code cache for ESM file:\S+\/dispatch-[A-Z0-9]{8}\.js was accepted/);
  const fromSources = spawnSync(bundledNode, [join(repo, 'sidecar', 'cli', 'main.ts'), 'version'], { encoding: 'utf8', env });
  assert.equal(fromSources.status, 0, fromSources.stderr);
  assert.doesNotMatch(fromSources.stderr, /\[compile cache\]/);
});

test('an unsupported Node is refused by the bundle before anything else loads', (t) => {
  if (!requireTools(t, ['node'])) return;
  const node = systemNode();
  assert.ok(node, 'node is on PATH outside node_modules');
  const version = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  if (isSupportedNode(version)) {
    t.skip(`the system node ${version} is supported; nothing to refuse`);
    return;
  }
  const r = spawnSync(node, [main, 'run', '--config', 'missing.yaml'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.startsWith(`spiffe-sidecar: needs Node.js ${SUPPORTED_NODE_RANGE}, found ${version} (`), r.stderr);
});

/** A loopback OTLP/HTTP receiver: keeps the bodies POSTed to /v1/traces. */
async function otlpReceiver(): Promise<{ url: string; bodies: Buffer[] }> {
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(Buffer.concat(parts));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, bodies };
}

test('a sidecar pair from the bundle: JWT by discovery, RFC 8693 exchange, tracing, metrics (the lazily loaded chunks)', async () => {
  const otlp = await otlpReceiver();
  const agent: InProcessAgent = await startDevAgent({ cleanup, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  const as: OidcProvider = await startOidcProvider({ cleanup, actorJwks: agent.agent.jwks('example.org') });
  const app = await startEchoApp(cleanup);
  const [inboundPort, outboundPort] = (await freePorts(2)) as [number, number];
  const inbound = `127.0.0.1:${inboundPort}`;
  const [backend, frontend]: TestSidecar[] = await Promise.all([
    startSidecar({
      cleanup,
      mainScript: main,
      name: 'backend.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('backend') },
        inbound: { listen: inbound, app: `127.0.0.1:${app.port}` },
        auth: { jwt: [{ name: 'corp', issuer: as.issuer, discovery: true, audiences: [JWT_RESOURCE] }], forwardToken: true },
      },
    }),
    startSidecar({
      cleanup,
      mainScript: main,
      name: 'frontend.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('frontend') },
        outbound: {
          listen: `127.0.0.1:${outboundPort}`,
          upstreams: [{ host: 'backend', address: inbound, serverId: BACKEND_ID, token: { mode: 'exchange', audience: JWT_RESOURCE, scope: 'read' } }],
          tokenExchange: { endpoint: as.tokenEndpoint, clientAuth: as.sidecarClientAuth('exchange.secret'), actorToken: true },
        },
        tracing: { enabled: true, endpoint: otlp.url, serviceName: 'bundle-frontend' },
      },
    }),
  ]);
  const user = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'alice', audience: OPAQUE_RESOURCE, scope: 'read write' });
  const r = await viaOutbound(outboundPort, '/orders', 'backend', { headers: { authorization: `Bearer ${user}` } });
  assert.equal(r.status, 200, `${r.body}\n${backend!.tail(30)}`);
  const h = (JSON.parse(r.body) as Echo).headers;
  assert.equal(h['x-auth-subject'], 'alice', 'the backend verified the exchanged JWT');
  assert.equal(h['x-client-spiffe-id'], FRONTEND_ID);
  assert.ok(!String(h['authorization']).includes(user), 'the opaque token never crossed');
  for (const side of [backend, frontend]) {
    const m = await side!.admin('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /^sidecar_requests_total\{/m);
  }
  // The span leaves with the final export at shutdown (or earlier, batched).
  await frontend!.stop();
  assert.ok(otlp.bodies.some((b) => b.includes('bundle-frontend')), `spans exported: ${otlp.bodies.length} bodies`);
});
