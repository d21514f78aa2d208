/**
 * The admission webhook over real TLS on 127.0.0.1 with a throwaway CA and
 * server certificate from openssl: AdmissionReviews sent with node:https
 * and with curl, malformed and hostile requests that must not take it
 * down, certificate reload, and the CLI as a process stopped by SIGTERM.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { applyJsonPatch, createWebhookServer, injectionSettings, type JsonObject, type JsonPatchOp } from '../../../sidecar/injector/index.ts';
import type { WebhookServer } from '../../../sidecar/injector/webhook-server.ts';
import { haveTool, inCi } from '../../support/tools.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..', '..');
const main = join(root, 'sidecar', 'cli', 'main.ts');

// Fails under CI without openssl/curl, skips elsewhere (like requireTools, but for a whole suite).
const missing = ['openssl', 'curl'].filter((c) => !haveTool(c));
if (missing.length > 0 && inCi) throw new Error(`test requirement missing: ${missing.join(', ')}`);
const skip = missing.length > 0 ? `missing: ${missing.join(', ')}` : false;

/** Makes a CA and a server certificate for 127.0.0.1/localhost in `dir` with openssl; returns the paths. */
async function makeCerts(dir: string, name: string): Promise<{ ca: string; cert: string; key: string }> {
  const p = (f: string) => join(dir, `${name}-${f}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1', '-subj', `/CN=${name} test CA`]);
  await run('openssl', ['req', ...ec, '-keyout', p('tls.key'), '-out', p('tls.csr'), '-subj', `/CN=${name}`]);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', p('tls.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('tls.crt'), '-days', '1', '-extfile', p('ext.cnf')]);
  return { ca: p('ca.crt'), cert: p('tls.crt'), key: p('tls.key') };
}

function review(pod: JsonObject, uid = 'e911857d-c318-11e8-bbad-025000000001'): JsonObject {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'demo',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

function demoPod(annotations: Record<string, string> | undefined): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'backend-7d9c8-', namespace: 'demo', labels: { app: 'backend' }, ...(annotations ? { annotations } : {}) },
    spec: {
      serviceAccountName: 'backend',
      containers: [{
        name: 'backend', image: 'spiffe-sidecar:0.1.0', ports: [{ containerPort: 8080, name: 'http' }],
        readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
      }],
    },
  };
}

interface Reply { status: number; body: string; headers: Record<string, unknown> }

function post(port: number, ca: Buffer, path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, method = 'POST'): Promise<Reply> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, method, ca, headers, agent: false }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (text += d));
      r.on('end', () => res({ status: r.statusCode!, body: text, headers: r.headers }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end(body);
  });
}

async function curl(port: number, ca: string, path: string, args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--cacert', ca, '-w', '\n%{http_code}', ...args, `https://127.0.0.1:${port}${path}`]);
  const lines = stdout.split('\n');
  const status = Number(lines.pop());
  return { status, body: lines.join('\n') };
}

function responseOf(r: Reply | { status: number; body: string }): JsonObject {
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as JsonObject)['response'] as JsonObject;
}

function decodePatch(resp: JsonObject): JsonPatchOp[] {
  return JSON.parse(Buffer.from(resp['patch'] as string, 'base64').toString('utf8')) as JsonPatchOp[];
}

/** The certificate the server presents on a fresh connection. */
function servedCert(port: number, ca: Buffer): Promise<X509Certificate> {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const raw = s.getPeerX509Certificate();
      s.end();
      if (raw) res(raw);
      else rej(new Error('no certificate'));
    });
    s.on('error', rej);
  });
}

let dir: string;
let server: WebhookServer;
let port: number;
let first: { ca: string; cert: string; key: string };
let ca: Buffer;
const settings = injectionSettings({ image: 'spiffe-sidecar:0.1.0' });

before(async () => {
  // Skipped tests need no server (and the set-up itself needs openssl).
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'spiffe-webhook-'));
  first = await makeCerts(dir, 'first');
  ca = readFileSync(first.ca);
  // The clock never advances: reloads are triggered by calling checkCertificate().
  server = createWebhookServer({
    listen: { host: '127.0.0.1', port: 0 },
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    settings,
    clock: new ManualClock(0),
    maxBodyBytes: 256 * 1024,
  });
  writeFileSync(join(dir, 'tls.crt'), readFileSync(first.cert));
  writeFileSync(join(dir, 'tls.key'), readFileSync(first.key));
  ({ port } = await server.start());
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('webhook server: GET /healthz', { skip }, async () => {
  const r = await post(port, ca, '/healthz', '', {}, 'GET');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok\n');
});

test('webhook server: POST /inject (node https): an opted-in pod gets a patch that applies', { skip }, async () => {
  const pod = demoPod({ 'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/policy-configmap': 'backend-policy' });
  const resp = responseOf(await post(port, ca, '/inject', JSON.stringify(review(pod))));
  assert.equal(resp['uid'], 'e911857d-c318-11e8-bbad-025000000001');
  assert.equal(resp['allowed'], true);
  assert.equal(resp['patchType'], 'JSONPatch');
  const out = applyJsonPatch(pod, decodePatch(resp));
  const spec = out['spec'] as JsonObject;
  assert.deepEqual((spec['initContainers'] as JsonObject[]).map((c) => c['name']), ['spiffe-sidecar-init', 'spiffe-sidecar']);
  const app = (spec['containers'] as JsonObject[])[0]!;
  assert.equal(((app['readinessProbe'] as JsonObject)['httpGet'] as JsonObject)['path'], '/app-probe/8080/ready');
});

test('webhook server: POST /inject/namespace-enabled (curl): a pod of an enabled namespace is injected without annotation', { skip }, async () => {
  const file = join(dir, 'review.json');
  writeFileSync(file, JSON.stringify(review(demoPod(undefined))));
  const r = await curl(port, first.ca, '/inject/namespace-enabled', ['-H', 'Content-Type: application/json', '--data-binary', `@${file}`]);
  const resp = responseOf(r);
  assert.equal(resp['patchType'], 'JSONPatch');
});

test('webhook server: POST /inject (curl): the same pod without annotation is not injected', { skip }, async () => {
  const file = join(dir, 'review-plain.json');
  writeFileSync(file, JSON.stringify(review(demoPod(undefined))));
  const resp = responseOf(await curl(port, first.ca, '/inject', ['-H', 'Content-Type: application/json', '--data-binary', `@${file}`]));
  assert.deepEqual(resp, { uid: 'e911857d-c318-11e8-bbad-025000000001', allowed: true });
});

const rows: [string, () => Promise<{ status: number; body: string }>, number, RegExp][] = [
  ['not JSON', () => post(port, ca, '/inject', '{"apiVersion": "admission.k8s.io/v1", '), 400, /not JSON/],
  ['v1beta1', () => post(port, ca, '/inject', JSON.stringify({ ...review(demoPod(undefined)), apiVersion: 'admission.k8s.io/v1beta1' })), 400, /admission\.k8s\.io\/v1/],
  ['no uid', () => post(port, ca, '/inject', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { group: '', version: 'v1', kind: 'Pod' } } })), 400, /uid/],
  ['wrong content type', () => post(port, ca, '/inject', '{}', { 'content-type': 'text/plain' }), 415, /application\/json/],
  ['body too large (content-length)', () => post(port, ca, '/inject', Buffer.alloc(300 * 1024, 0x20)), 413, /larger than/],
  ['GET /inject', () => post(port, ca, '/inject', '', {}, 'GET'), 405, /method not allowed/],
  ['unknown path', () => post(port, ca, '/mutate', '{}'), 404, /not found/],
];
for (const [name, send, status, message] of rows) {
  test(`webhook server: malformed requests get an answer and do not stop the server: ${name}`, { skip }, async () => {
    const r = await send();
    assert.equal(r.status, status);
    assert.match(r.body, message);
  });
}
test('webhook server: malformed requests get an answer and do not stop the server: body too large (chunked, with curl)', { skip }, async () => {
  const file = join(dir, 'big.json');
  writeFileSync(file, Buffer.alloc(600 * 1024, 0x20));
  const r = await curl(port, first.ca, '/inject', ['-H', 'Content-Type: application/json', '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`]).catch(
    (err: { stdout?: string }) => ({ status: Number(String(err.stdout ?? '').split('\n').pop()), body: '' }),
  );
  assert.equal(r.status, 413);
});
test('webhook server: malformed requests get an answer and do not stop the server: a parseable review with a bad object is denied in an AdmissionReview', { skip }, async () => {
  const resp = responseOf(await post(port, ca, '/inject', JSON.stringify(review({ metadata: {}, spec: {} } as JsonObject))));
  assert.equal(resp['allowed'], false);
  assert.equal((resp['status'] as JsonObject)['code'], 400);
});
test('webhook server: malformed requests get an answer and do not stop the server: plain TCP garbage instead of TLS', { skip }, async () => {
  await new Promise<void>((res) => {
    const s = netConnect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\n\r\n\x00\xff garbage'));
    s.on('error', () => res());
    s.on('close', () => res());
  });
});
test('webhook server: malformed requests get an answer and do not stop the server: TLS, then garbage instead of HTTP', { skip }, async () => {
  await new Promise<void>((res) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => s.write('\x16\x03 not http at all\r\n\r\n'));
    s.on('error', () => res());
    s.on('close', () => res());
    s.resume();
  });
});
test('webhook server: malformed requests get an answer and do not stop the server: a client that disappears half-way through the body', { skip }, async () => {
  await new Promise<void>((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/inject', method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': '1000' }, agent: false });
    req.on('error', () => res());
    req.write('{"apiVersion":', () => {
      req.destroy();
      res();
    });
  });
});
test('webhook server: malformed requests get an answer and do not stop the server: still serves after all of the above', { skip }, async () => {
  const resp = responseOf(await post(port, ca, '/inject', JSON.stringify(review(demoPod({ 'spiffe-sidecar.io/inject': 'true' }), 'after-garbage'))));
  assert.equal(resp['uid'], 'after-garbage');
  assert.equal(resp['patchType'], 'JSONPatch');
});

test('webhook server: certificate reload: a changed certificate is served on new connections', { skip }, async () => {
  const before = await servedCert(port, ca);
  const second = await makeCerts(dir, 'second');
  // Replace both files the way a Secret volume update does: new files renamed into place.
  writeFileSync(join(dir, 'tls.crt.new'), readFileSync(second.cert));
  writeFileSync(join(dir, 'tls.key.new'), readFileSync(second.key));
  renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
  renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
  assert.equal(await server.checkCertificate(), true);
  const now = await servedCert(port, readFileSync(second.ca));
  assert.notEqual(now.fingerprint256, before.fingerprint256);
  assert.match(now.subject, /CN=second/);
  ca = readFileSync(second.ca);
});
test('webhook server: certificate reload: no change, no reload', { skip }, async () => {
  assert.equal(await server.checkCertificate(), false);
});
test('webhook server: certificate reload: a broken pair is refused and the previous certificate kept', { skip }, async () => {
  const served = await servedCert(port, ca);
  const third = await makeCerts(dir, 'third');
  // Certificate of "third" with the key of "second": they do not match.
  writeFileSync(join(dir, 'tls.crt'), readFileSync(third.cert));
  assert.equal(await server.checkCertificate(), false);
  assert.equal((await servedCert(port, ca)).fingerprint256, served.fingerprint256);
  const resp = responseOf(await post(port, ca, '/inject', JSON.stringify(review(demoPod(undefined)))));
  assert.equal(resp['allowed'], true);
});

test('spiffe-sidecar webhook (process): serves, answers curl, and exits 0 on SIGTERM', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spiffe-webhook-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = await makeCerts(dir, 'cli');
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'webhook', '--cert', c.cert, '--key', c.key, '--listen', '127.0.0.1:0', '--image', 'spiffe-sidecar:0.1.0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (line.includes('webhook listening')) res((JSON.parse(line) as { port: number }).port);
      }
    });
    child.on('exit', (code) => rej(new Error(`webhook exited ${code}: ${err}`)));
  });
  const health = await curl(port, c.ca, '/healthz', []);
  assert.equal(health.status, 200);
  const file = join(dir, 'r.json');
  writeFileSync(file, JSON.stringify(review(demoPod({ 'spiffe-sidecar.io/inject': 'true' }))));
  const resp = responseOf(await curl(port, c.ca, '/inject', ['-H', 'Content-Type: application/json', '--data-binary', `@${file}`]));
  assert.equal(resp['patchType'], 'JSONPatch');
  const code = await new Promise<number | null>((res) => {
    child.on('exit', (c2) => res(c2));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0, err);
  assert.match(out, /admission review/);
});

test('spiffe-sidecar webhook (process): refuses to start with a missing certificate', { skip }, async () => {
  const r = await run(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'webhook', '--cert', '/nonexistent/tls.crt', '--key', '/nonexistent/tls.key', '--listen', '127.0.0.1:0'], { cwd: root }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /injector\.certificate_invalid/);
});
