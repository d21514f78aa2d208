/**
 * `spiffe-sidecar inject` in-process (stdin and files, flags, report on
 * stderr), and the contract between the injector and the sidecar's config:
 * every SPIFFE_SIDECAR_* variable the injector sets is one the config reads,
 * and the app probes it lists are valid and served at the rewritten paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { defaultImage, makeInjectCommand } from '../../../sidecar/cli/inject.ts';
import { UsageError, type CliIo } from '../../../sidecar/cli/io.ts';
import { appProbePath } from '../../../sidecar/admin/index.ts';
import { parseConfig } from '../../../sidecar/config/index.ts';
import { CONFIG_ENV_VARS, ENV_APP_PROBES, ENV_ENDPOINT_SOCKET } from '../../../sidecar/core/index.ts';
import { applyJsonPatch, injectPod, type JsonObject } from '../../../sidecar/injector/index.ts';
import { container, env, pod, settings } from './fixtures.ts';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1", ports: [{containerPort: 8080}]}]}
`;

async function runInject(argv: string[], stdinText = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: CliIo = { stdout, stderr, env: {}, stopSignal: new AbortController().signal };
  const code = await makeInjectCommand(() => Readable.from([stdinText]))(argv, io);
  return { code, out, err };
}

const templateSpec = (yamlText: string): JsonObject => {
  const doc = (parseAllDocuments(yamlText) as unknown as { toJS(): JsonObject }[])[0]!.toJS();
  return ((doc['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
};

test('spiffe-sidecar inject: reads standard input with -f - and reports on stderr', async () => {
  const r = await runInject(['-f', '-'], DEPLOYMENT);
  assert.equal(r.code, 0);
  const inits = templateSpec(r.out)['initContainers'] as JsonObject[];
  assert.deepEqual(inits.map((c) => c['name']), ['spiffe-sidecar-init', 'spiffe-sidecar']);
  assert.equal(inits[1]!['image'], defaultImage());
  assert.match(r.err, /apps\/v1\/Deployment web: injected/);
});
test('spiffe-sidecar inject: reads a file and writes -o', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inject-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'in.yaml'), DEPLOYMENT);
  const r = await runInject(['-f', join(dir, 'in.yaml'), '-o', join(dir, 'out.yaml'), '--image', 'registry.example/spiffe-sidecar:1.2.3']);
  assert.equal(r.code, 0);
  assert.equal(r.out, '');
  const { readFileSync } = await import('node:fs');
  const inits = templateSpec(readFileSync(join(dir, 'out.yaml'), 'utf8'))['initContainers'] as JsonObject[];
  assert.equal(inits[0]!['image'], 'registry.example/spiffe-sidecar:1.2.3');
});
test('spiffe-sidecar inject: settings flags reach the injected pod', async () => {
  const r = await runInject(['-f', '-', '--native-sidecar', 'false', '--workload-socket', 'hostpath', '--host-socket-dir', '/run/spire/sockets', '--sidecar-log-level', 'debug', '--image-pull-policy', 'Never'], DEPLOYMENT);
  const spec = templateSpec(r.out);
  const sidecar = (spec['containers'] as JsonObject[])[0]!;
  assert.equal(sidecar['name'], 'spiffe-sidecar');
  assert.equal(sidecar['imagePullPolicy'], 'Never');
  assert.deepEqual(((spec['volumes'] as JsonObject[])[0]!['hostPath'] as JsonObject)['path'], '/run/spire/sockets');
  assert.ok((sidecar['env'] as JsonObject[]).some((e) => e['name'] === 'SPIFFE_SIDECAR_LOG_LEVEL' && e['value'] === 'debug'));
});
test('spiffe-sidecar inject: --only-annotated leaves unannotated workloads alone', async () => {
  const r = await runInject(['-f', '-', '--only-annotated'], DEPLOYMENT);
  assert.equal(r.out, `---\n${DEPLOYMENT}`);
  assert.match(r.err, /unchanged \(not opted in/);
});
const usage: [string, string[]][] = [
  ['no -f', []],
  ['bad native-sidecar', ['-f', '-', '--native-sidecar', 'maybe']],
  ['bad image', ['-f', '-', '--image', 'has space']],
  ['bad pull policy', ['-f', '-', '--image-pull-policy', 'Sometimes']],
  ['bad socket type', ['-f', '-', '--workload-socket', 'tcp']],
  ['bad CIDR', ['-f', '-', '--exclude-outbound-cidrs', '10.0.0.0/99']],
  ['unknown flag', ['-f', '-', '--inject-everything']],
];
for (const [name, argv] of usage) {
  test(`spiffe-sidecar inject: usage error: ${name}`, async () => {
    await assert.rejects(runInject(argv, DEPLOYMENT), UsageError);
  });
}

test('contract with the sidecar config: every variable the injector sets is read by the config (transparent outbound)', () => {
  const known = new Set([...CONFIG_ENV_VARS, ENV_ENDPOINT_SOCKET]);
  const p = pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/intercept-outbound': 'true' } });
  const out = applyJsonPatch(p, injectPod(p, { settings: settings() }).patch);
  const names = (container(out, 'spiffe-sidecar')!['env'] as JsonObject[]).map((e) => e['name'] as string);
  assert.ok(names.includes('SPIFFE_SIDECAR_TRANSPARENT'));
  for (const n of names) assert.ok(known.has(n), `${n} is not a variable of docs/config.md`);
});
test('contract with the sidecar config: every variable the injector sets is read by the config', () => {
  const known = new Set([...CONFIG_ENV_VARS, ENV_ENDPOINT_SOCKET]);
  const p = pod({ annotations: {
    'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/policy-configmap': 'p', 'spiffe-sidecar.io/config-configmap': 'c', 'spiffe-sidecar.io/log-level': 'info',
  } });
  const out = applyJsonPatch(p, injectPod(p, { settings: settings() }).patch);
  const names = ((container(out, 'spiffe-sidecar')!['env'] as JsonObject[]).map((e) => e['name'] as string));
  assert.equal(names.length, 7);
  for (const n of names) assert.ok(known.has(n), `${n} is not a variable of docs/config.md`);
});

test('contract with the sidecar: app probes: the SPIFFE_SIDECAR_APP_PROBES the injector writes is valid config, and serves exactly the rewritten paths', () => {
  const p = pod({
    containers: [{
      name: 'app',
      image: 'a',
      ports: [{ name: 'http', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/live?deep=1', port: 'http', httpHeaders: [{ name: 'X-Probe', value: '1' }] }, timeoutSeconds: 4 },
      readinessProbe: { httpGet: { path: 'ready', port: 8080 } },
      startupProbe: { httpGet: { path: '/live?deep=1', port: 8080, httpHeaders: [{ name: 'X-Probe', value: '1' }] } },
    }],
  });
  const out = applyJsonPatch(p, injectPod(p, { settings: settings() }).patch);
  const value = env(container(out, 'spiffe-sidecar'), ENV_APP_PROBES);
  assert.ok(value !== undefined);
  const c = parseConfig({ spiffe: { endpointSocket: 'unix:///s.sock' } }, { [ENV_APP_PROBES]: value }, 'injected');
  const app = container(out, 'app')!;
  const rewritten = ['livenessProbe', 'readinessProbe', 'startupProbe'].map((k) => String(((app[k] as JsonObject)['httpGet'] as JsonObject)['path']));
  // The kubelet sends the path with its query; the admin listener matches it without.
  const served = new Set(c.admin.appProbes.map((x) => appProbePath(x.port, x.target)));
  assert.deepEqual([...new Set(rewritten.map((r) => r.split('?')[0]))].sort(), [...served].sort());
  assert.deepEqual(
    c.admin.appProbes.map((x) => [x.port, x.target, x.timeoutMs, x.headers]),
    [
      [8080, '/live?deep=1', 4000, [{ name: 'X-Probe', value: '1' }]],
      [8080, '/ready', 1000, []],
    ],
  );
});
