/**
 * The JSON patch the injector emits: whole-array/whole-map adds when the
 * target is absent, '/-' and indexed adds when present, RFC 6901 escaping of
 * '/' and '~' in keys, and the small RFC 6902 applier used to check them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, injectPod, type JsonObject, type JsonPatchOp } from '../../../sidecar/injector/index.ts';
import { InjectorError } from '../../../sidecar/injector/injector-error.ts';
import { escapePointerToken, pointer, unescapePointerToken } from '../../../sidecar/injector/json-patch.ts';
import { pod, settings } from './fixtures.ts';

const S = settings();
const patchOf = (p: JsonObject): JsonPatchOp[] => injectPod(p, { settings: S, namespaceLabels: { 'spiffe-sidecar.io/inject': 'enabled' } }).patch;
const paths = (ops: JsonPatchOp[]) => ops.map((o) => `${o.op} ${o.path}`);

const rows: [string, string][] = [
  ['spiffe-sidecar.io/inject', 'spiffe-sidecar.io~1inject'],
  ['a~b', 'a~0b'],
  ['~1', '~01'],
  ['/~', '~1~0'],
  ['plain', 'plain'],
];
for (const [raw, escaped] of rows) {
  test(`JSON Pointer escaping (RFC 6901): ${JSON.stringify(raw)} ↔ ${JSON.stringify(escaped)}`, () => {
    assert.equal(escapePointerToken(raw), escaped);
    assert.equal(unescapePointerToken(escaped), raw);
  });
}
test('JSON Pointer escaping (RFC 6901): pointer() escapes each token', () => {
  assert.equal(pointer('metadata', 'annotations', 'example.com/a~b'), '/metadata/annotations/example.com~1a~0b');
});

test('patch paths: absent annotations map: one add of the whole map', () => {
  const ops = patchOf(pod({ annotations: null }));
  const ann = ops.filter((o) => o.path.startsWith('/metadata'));
  assert.equal(ann.length, 1);
  assert.equal(ann[0]!.path, '/metadata/annotations');
  assert.equal(typeof (ann[0] as { value: JsonObject }).value['spiffe-sidecar.io/status'], 'string');
});
test('patch paths: absent metadata: one add of metadata with the annotations', () => {
  const p = pod({ annotations: null });
  delete p['metadata'];
  const ops = patchOf(p);
  assert.deepEqual(paths(ops.filter((o) => o.path.startsWith('/metadata'))), ['add /metadata']);
  const out = applyJsonPatch(p, ops);
  assert.ok(((out['metadata'] as JsonObject)['annotations'] as JsonObject)['spiffe-sidecar.io/status']);
});
test('patch paths: existing annotations: one add per key, "/" escaped as ~1', () => {
  const ops = patchOf(pod());
  assert.deepEqual(paths(ops.filter((o) => o.path.startsWith('/metadata'))), [
    'add /metadata/annotations/spiffe-sidecar.io~1status',
    'add /metadata/annotations/prometheus.io~1scrape',
    'add /metadata/annotations/prometheus.io~1port',
    'add /metadata/annotations/prometheus.io~1path',
  ]);
});
test('patch paths: existing annotations with odd keys stay intact', () => {
  const p = pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', 'a~b/c': 'x' } });
  const out = applyJsonPatch(p, patchOf(p));
  assert.equal(((out['metadata'] as JsonObject)['annotations'] as JsonObject)['a~b/c'], 'x');
});
test('patch paths: absent initContainers and volumes: whole arrays', () => {
  const ops = patchOf(pod());
  assert.ok(paths(ops).includes('add /spec/initContainers'));
  assert.ok(paths(ops).includes('add /spec/volumes'));
  assert.ok(!ops.some((o) => o.path.startsWith('/spec/initContainers/') || o.path.startsWith('/spec/volumes/')));
});
test('patch paths: existing initContainers: ours inserted at 0 and 1, the pod\'s own run after them', () => {
  const p = pod({ spec: { initContainers: [{ name: 'migrate', image: 'm' }] } });
  const ops = patchOf(p);
  assert.deepEqual(paths(ops.filter((o) => o.path.startsWith('/spec/initContainers'))), ['add /spec/initContainers/0', 'add /spec/initContainers/1']);
  const out = applyJsonPatch(p, ops);
  assert.deepEqual(((out['spec'] as JsonObject)['initContainers'] as JsonObject[]).map((c) => c['name']), ['spiffe-sidecar-init', 'spiffe-sidecar', 'migrate']);
});
test('patch paths: existing volumes: appended with /-', () => {
  const p = pod({ spec: { volumes: [{ name: 'data', emptyDir: {} }] } });
  const ops = patchOf(p);
  assert.deepEqual(paths(ops.filter((o) => o.path.startsWith('/spec/volumes'))), ['add /spec/volumes/-']);
  const out = applyJsonPatch(p, ops);
  assert.deepEqual(((out['spec'] as JsonObject)['volumes'] as JsonObject[]).map((v) => v['name']), ['data', 'spiffe-sidecar-workload-api']);
});
test('patch paths: fallback: the sidecar is added at /spec/containers/0, after the probe rewrites', () => {
  const p = pod({
    annotations: { 'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/native-sidecar': 'false' },
    containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }],
  });
  const ops = patchOf(p);
  const probe = ops.findIndex((o) => o.path === '/spec/containers/0/readinessProbe/httpGet');
  const insert = ops.findIndex((o) => o.path === '/spec/containers/0' && o.op === 'add');
  assert.ok(probe >= 0 && insert > probe, 'probe rewrite must use the index before the insertion');
  const out = applyJsonPatch(p, ops);
  const app = ((out['spec'] as JsonObject)['containers'] as JsonObject[])[1]!;
  assert.equal(((app['readinessProbe'] as JsonObject)['httpGet'] as JsonObject)['path'], '/app-probe/8080/ready');
});

const doc = { a: { 'b/c': 1, list: [1, 2] } };
test('applyJsonPatch: add, replace, remove, test', () => {
  const out = applyJsonPatch(doc, [
    { op: 'add', path: '/a/list/-', value: 3 },
    { op: 'add', path: '/a/list/0', value: 0 },
    { op: 'replace', path: '/a/b~1c', value: 2 },
    { op: 'test', path: '/a/b~1c', value: 2 },
    { op: 'remove', path: '/a/list/1' },
  ]);
  assert.deepEqual(out, { a: { 'b/c': 2, list: [0, 2, 3] } });
  assert.deepEqual(doc, { a: { 'b/c': 1, list: [1, 2] } }, 'input untouched');
});
const failing: [string, JsonPatchOp][] = [
  ['missing parent', { op: 'add', path: '/x/y', value: 1 }],
  ['replace of an absent key', { op: 'replace', path: '/a/zzz', value: 1 }],
  ['index past the end', { op: 'add', path: '/a/list/3', value: 1 }],
  ['leading zero index', { op: 'add', path: '/a/list/01', value: 1 }],
  ['failed test', { op: 'test', path: '/a/b~1c', value: 9 }],
  ['not a pointer', { op: 'add', path: 'a', value: 1 }],
];
for (const [name, op] of failing) {
  test(`applyJsonPatch: fails: ${name}`, () => {
    assert.throws(() => applyJsonPatch(doc, [op]), (e: InjectorError) => e.code === 'injector.patch_failed');
  });
}
