/**
 * reviewAdmission: one row per kind of malformed or unusual AdmissionReview
 * and the decision taken for it (see docs/kubernetes.md "Malformed requests").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reviewAdmission } from '../../../sidecar/injector/admission-review.ts';
import { applyJsonPatch, type JsonObject, type JsonPatchOp } from '../../../sidecar/injector/index.ts';
import { pod, settings } from './fixtures.ts';

const S = settings();

export function review(over: JsonObject = {}, object: unknown = pod()): JsonObject {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'demo',
      operation: 'CREATE',
      object: object as JsonObject,
      ...over,
    },
  };
}

const answer = (body: string, namespaceInjection = false) => reviewAdmission(body, { settings: S, namespaceInjection });
const responseOf = (body: string, ns = false) => {
  const a = answer(body, ns);
  assert.equal(a.status, 200, a.body);
  const parsed = JSON.parse(a.body) as JsonObject;
  assert.equal(parsed['apiVersion'], 'admission.k8s.io/v1');
  assert.equal(parsed['kind'], 'AdmissionReview');
  return parsed['response'] as JsonObject;
};

const rows: [string, string, RegExp][] = [
  ['not JSON', '{"apiVersion":', /not JSON/],
  ['JSON but not an object', '[1,2]', /JSON object/],
  ['v1beta1 review', JSON.stringify({ ...review(), apiVersion: 'admission.k8s.io/v1beta1' }), /expected apiVersion admission.k8s.io\/v1/],
  ['wrong kind', JSON.stringify({ ...review(), kind: 'AdmissionRequest' }), /kind AdmissionReview/],
  ['no request', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), /no request/],
  ['request.uid missing', JSON.stringify(review({ uid: undefined as unknown as string })), /request\.uid/],
  ['request.uid empty', JSON.stringify(review({ uid: '' })), /request\.uid/],
  ['request.uid not a string', JSON.stringify(review({ uid: 42 })), /request\.uid/],
];
for (const [name, body, message] of rows) {
  test(`unparseable envelopes: HTTP 400: ${name}`, () => {
    const a = answer(body);
    assert.equal(a.status, 400);
    assert.match(a.body, message);
    assert.match(a.contentType, /text\/plain/);
  });
}

test('parseable reviews: the uid is echoed', () => {
  assert.equal(responseOf(JSON.stringify(review()))['uid'], '705ab4f5-6393-11e8-b7cc-42010a800002');
});
test('parseable reviews: an opted-in pod: allowed with a base64 JSONPatch that applies', () => {
  const r = responseOf(JSON.stringify(review()));
  assert.equal(r['allowed'], true);
  assert.equal(r['patchType'], 'JSONPatch');
  const ops = JSON.parse(Buffer.from(r['patch'] as string, 'base64').toString('utf8')) as JsonPatchOp[];
  const out = applyJsonPatch(pod(), ops);
  assert.ok(((out['spec'] as JsonObject)['initContainers'] as JsonObject[]).some((c) => c['name'] === 'spiffe-sidecar'));
});
test('parseable reviews: a pod that did not opt in: allowed, no patch', () => {
  const r = responseOf(JSON.stringify(review({}, pod({ annotations: null }))));
  assert.deepEqual(r, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
});
test('parseable reviews: the namespace-enabled entry injects pods without the annotation', () => {
  const r = responseOf(JSON.stringify(review({}, pod({ annotations: null }))), true);
  assert.equal(r['patchType'], 'JSONPatch');
});
test('parseable reviews: pod opt-out wins over the namespace-enabled entry', () => {
  const r = responseOf(JSON.stringify(review({}, pod({ annotations: { 'spiffe-sidecar.io/inject': 'false' } }))), true);
  assert.equal(r['patch'], undefined);
  assert.equal(r['allowed'], true);
});
test('parseable reviews: not a Pod (misconfigured rule): allowed with a warning', () => {
  const r = responseOf(JSON.stringify(review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } })));
  assert.equal(r['allowed'], true);
  assert.equal(r['patch'], undefined);
  assert.match((r['warnings'] as string[])[0]!, /only Pods are injected/);
});
test('parseable reviews: kind missing: allowed with a warning', () => {
  const r = responseOf(JSON.stringify(review({ kind: null })));
  assert.equal(r['allowed'], true);
  assert.ok((r['warnings'] as string[]).length === 1);
});
test('parseable reviews: UPDATE: allowed, unchanged', () => {
  const r = responseOf(JSON.stringify(review({ operation: 'UPDATE' })));
  assert.deepEqual(r, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
});
test('parseable reviews: request.object missing: denied 400', () => {
  const r = responseOf(JSON.stringify(review({ object: null })));
  assert.equal(r['allowed'], false);
  assert.equal((r['status'] as JsonObject)['code'], 400);
  assert.match((r['status'] as JsonObject)['message'] as string, /request\.object/);
});
test('parseable reviews: request.object not pod-shaped: denied 400', () => {
  const r = responseOf(JSON.stringify(review({}, { metadata: {}, spec: { containers: 'app' } })));
  assert.equal(r['allowed'], false);
  assert.equal((r['status'] as JsonObject)['code'], 400);
  assert.match((r['status'] as JsonObject)['message'] as string, /spec\.containers/);
});
test('parseable reviews: opted in with a bad annotation: denied 422 naming the annotation', () => {
  const r = responseOf(JSON.stringify(review({}, pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/inbound-ports': 'http' } }))));
  assert.equal(r['allowed'], false);
  assert.equal((r['status'] as JsonObject)['code'], 422);
  assert.match((r['status'] as JsonObject)['message'] as string, /spiffe-sidecar\.io\/inbound-ports/);
});
test('parseable reviews: hostNetwork pod: allowed with a warning', () => {
  const r = responseOf(JSON.stringify(review({}, pod({ spec: { hostNetwork: true } }))));
  assert.equal(r['allowed'], true);
  assert.equal(r['patch'], undefined);
  assert.match((r['warnings'] as string[])[0]!, /hostNetwork/);
});
test('parseable reviews: warnings are prefixed and kept short', () => {
  const long = 'x'.repeat(400);
  const r = responseOf(JSON.stringify(review({ kind: { group: 'g', version: 'v', kind: long } })));
  const w = (r['warnings'] as string[])[0]!;
  assert.ok(w.startsWith('spiffe-sidecar: '));
  assert.ok(w.length <= 250);
});
