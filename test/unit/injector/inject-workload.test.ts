/**
 * injectWorkload: the pod template path of each workload kind, and
 * injectManifests: multi-document YAML in, the same documents out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { injectManifests, injectWorkload, type JsonObject } from '../../../sidecar/injector/index.ts';
import { podTemplatePath } from '../../../sidecar/injector/inject-workload.ts';
import { InjectorError } from '../../../sidecar/injector/injector-error.ts';
import { settings } from './fixtures.ts';

const S = settings();
const enabled = { 'spiffe-sidecar.io/inject': 'enabled' };
const template = (): JsonObject => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 8080 }] }] },
});

/** One workload per kind, with its pod template where the API puts it. */
export function workloads(): { kind: string; obj: JsonObject; base: string }[] {
  const meta = { name: 'web', namespace: 'demo' };
  return [
    { kind: 'v1/Pod', base: '', obj: { apiVersion: 'v1', kind: 'Pod', ...template(), metadata: { ...meta, labels: { app: 'web' } } } },
    { kind: 'apps/v1/Deployment', base: '/spec/template', obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } } },
    { kind: 'apps/v1/StatefulSet', base: '/spec/template', obj: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta, spec: { serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: template() } } },
    { kind: 'apps/v1/DaemonSet', base: '/spec/template', obj: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } } },
    { kind: 'apps/v1/ReplicaSet', base: '/spec/template', obj: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } } },
    { kind: 'batch/v1/Job', base: '/spec/template', obj: { apiVersion: 'batch/v1', kind: 'Job', metadata: meta, spec: { template: { ...template(), spec: { ...(template()['spec'] as JsonObject), restartPolicy: 'Never' } } } } },
    {
      kind: 'batch/v1/CronJob',
      base: '/spec/jobTemplate/spec/template',
      obj: { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { ...template(), spec: { ...(template()['spec'] as JsonObject), restartPolicy: 'OnFailure' } } } } } },
    },
  ];
}

for (const w of workloads()) {
  test(`injectWorkload: pod template path per kind: ${w.kind}`, () => {
    const r = injectWorkload(w.obj, { settings: S, namespaceLabels: enabled });
    assert.equal(r.patched, true);
    assert.equal(r.kind, w.kind);
    assert.ok(r.patch.length > 0);
    for (const op of r.patch) assert.ok(op.path.startsWith(`${w.base}/`), `${op.path} is under ${w.base}`);
    const again = injectWorkload(r.object, { settings: S, namespaceLabels: enabled });
    assert.equal(again.patched, false, 'idempotent');
  });
}
test('injectWorkload: pod template path per kind: refuses kinds without a pod template', () => {
  assert.throws(() => injectWorkload({ apiVersion: 'v1', kind: 'Service' }, { settings: S }), (e: InjectorError) => e.code === 'injector.object_invalid');
});
test('injectWorkload: pod template path per kind: refuses an unknown version of a known kind', () => {
  assert.throws(() => injectWorkload({ apiVersion: 'apps/v1beta1', kind: 'Deployment' }, { settings: S }), /not a workload/);
});
test('injectWorkload: pod template path per kind: a Deployment without a template is malformed', () => {
  assert.throws(
    () => injectWorkload({ apiVersion: 'apps/v1', kind: 'Deployment', spec: {} }, { settings: S, namespaceLabels: enabled }),
    (e: InjectorError) => e.code === 'injector.object_invalid' && /spec\.template/.test(e.message),
  );
});
test('injectWorkload: pod template path per kind: annotations on the workload itself do not count, only the pod template\'s', () => {
  const w = workloads()[1]!.obj;
  (w['metadata'] as JsonObject)['annotations'] = { 'spiffe-sidecar.io/inject': 'true' };
  assert.equal(injectWorkload(w, { settings: S }).patched, false);
});

/** The pod template of an injected workload, found at its kind's path. */
function injectedTemplate(obj: unknown): JsonObject {
  let t = obj as JsonObject;
  for (const token of podTemplatePath(obj)!) t = t[token] as JsonObject;
  return t;
}

const batch = workloads().filter((w) => w.kind.startsWith('batch/'));
for (const w of batch) {
  test(`Jobs and CronJobs: the sidecar ends with the app: ${w.kind}: a native sidecar (init container, restartPolicy Always), stopped by the kubelet when the app exits`, () => {
    const t = injectedTemplate(injectWorkload(w.obj, { settings: S, namespaceLabels: enabled }).object);
    const spec = t['spec'] as JsonObject;
    const sidecar = (spec['initContainers'] as JsonObject[]).find((c) => c['name'] === 'spiffe-sidecar');
    assert.equal(sidecar?.['restartPolicy'], 'Always');
    assert.deepEqual((spec['containers'] as JsonObject[]).map((c) => c['name']), ['web'], 'no long-running regular container');
  });
  test(`Jobs and CronJobs: the sidecar ends with the app: ${w.kind}: outbound interception on without a config file`, () => {
    const t = injectedTemplate(injectWorkload(w.obj, { settings: S, namespaceLabels: enabled }).object);
    const init = ((t['spec'] as JsonObject)['initContainers'] as JsonObject[]).find((c) => c['name'] === 'spiffe-sidecar-init');
    assert.ok(!(init?.['args'] as string[]).includes('--no-outbound'));
  });
  test(`Jobs and CronJobs: the sidecar ends with the app: ${w.kind}: the non-native fallback warns that the Job would never complete`, () => {
    const r = injectWorkload(w.obj, { settings: settings({ nativeSidecar: false }), namespaceLabels: enabled });
    assert.equal(r.patched, true);
    assert.match(r.warnings.join('\n'), /never completes/);
  });
}
test('Jobs and CronJobs: the sidecar ends with the app: a Deployment (restartPolicy Always) gets no such warning in the fallback mode', () => {
  const r = injectWorkload(workloads()[1]!.obj, { settings: settings({ nativeSidecar: false }), namespaceLabels: enabled });
  assert.doesNotMatch(r.warnings.join('\n'), /never completes/);
});

const input = [
  '# leading comment',
  'apiVersion: v1',
  'kind: Service   # kept as written',
  'metadata: {name: web}',
  'spec: {ports: [{port: 80}]}',
  '---',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata: {name: web}',
  'spec:',
  '  selector: {matchLabels: {app: web}}',
  '  template:',
  '    metadata: {labels: {app: web}}',
  '    spec: {containers: [{name: web, image: "web:1", ports: [{containerPort: 8080}]}]}',
  '---',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata: {name: opted-out}',
  'spec:',
  '  selector: {matchLabels: {app: o}}',
  '  template:',
  '    metadata: {labels: {app: o}, annotations: {spiffe-sidecar.io/inject: "false"}}',
  '    spec: {containers: [{name: o, image: "o:1"}]}',
  '---',
  'apiVersion: v1',
  'kind: List',
  'items:',
  '- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: p, image: "p:1"}]}}',
  '',
].join('\n');

test('injectManifests: injects workloads, passes everything else through, keeps document count and order', () => {
  const { output, reports } = injectManifests(input, { settings: S, namespaceLabels: enabled });
  const docs = parseAllDocuments(output) as unknown as { toJS(): JsonObject }[];
  assert.deepEqual(docs.map((d) => d.toJS()['kind']), ['Service', 'Deployment', 'Deployment', 'List']);
  assert.match(output, /kind: Service {3}# kept as written/, 'non-workload text untouched');
  assert.match(output, /opted-out/);
  assert.deepEqual(reports.map((r) => [r.object, r.patched]), [
    ['apps/v1/Deployment web', true],
    ['apps/v1/Deployment opted-out', false],
    ['v1/Pod p', true],
  ]);
  const dep = docs[1]!.toJS();
  const tpl = (dep['spec'] as JsonObject)['template'] as JsonObject;
  assert.ok(((tpl['spec'] as JsonObject)['initContainers'] as JsonObject[]).some((c) => c['name'] === 'spiffe-sidecar'));
});
test('injectManifests: is idempotent: injecting the output again changes nothing', () => {
  const once = injectManifests(input, { settings: S, namespaceLabels: enabled }).output;
  const twice = injectManifests(once, { settings: S, namespaceLabels: enabled });
  assert.equal(twice.output, once);
  assert.ok(twice.reports.every((r) => !r.patched));
});
test('injectManifests: without the namespace opt-in only annotated templates are injected', () => {
  const { reports } = injectManifests(input, { settings: S });
  assert.ok(reports.every((r) => !r.patched));
});
test('injectManifests: invalid YAML is refused with the document number', () => {
  assert.throws(() => injectManifests('a: 1\n---\nb: [\n', { settings: S }), (e: InjectorError) => e.code === 'injector.yaml_invalid' && /document 2/.test(e.message));
});
test('injectManifests: a refused workload names its document', () => {
  const bad = 'apiVersion: v1\nkind: Pod\nmetadata: {name: x, annotations: {spiffe-sidecar.io/inject: "yes"}}\nspec: {containers: [{name: x}]}\n';
  assert.throws(() => injectManifests(bad, { settings: S }), /document 1 \(v1\/Pod x\)/);
});
test('injectManifests: empty input gives empty output', () => {
  assert.equal(injectManifests('', { settings: S }).output, '');
});
