import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Bundle, X509BundleSet } from '../../../sidecar/bundle/index.ts';
import { checkBundles, checkClockSkew, checkSvid, checkWorkloadApi, type WorkloadApiOutcome } from '../../../sidecar/check/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { parseX509Svid } from '../../../sidecar/svid/index.ts';
import { HOUR, SECOND, T0, makeLeaf, makeRoot, type SpecOverrides, type TestCa } from '../../support/certs.ts';

const td = TrustDomain.parse('example.org');
const root = makeRoot('example.org');
const otherRoot = makeRoot('example.org');
const fedRoot = makeRoot('partner.org');

/** An outcome holding one SVID issued by `issuer`, with `bundles` as the agent's bundle set. */
function outcome(leaf: SpecOverrides = {}, o: { issuer?: TestCa; bundles?: X509Bundle[]; hint?: string; id?: string } = {}): WorkloadApiOutcome {
  const l = makeLeaf(o.issuer ?? root, o.id ?? 'spiffe://example.org/workload', leaf);
  const svid = parseX509Svid(l.der, l.keyPkcs8Der, o.hint ?? '');
  const bundles = X509BundleSet.of(o.bundles ?? [X509Bundle.fromCertificates(td, [root.certificate])]);
  return { ok: true, target: 'unix:///agent.sock', identity: { svids: [svid], bundles }, elapsedMs: 3 };
}

const down: WorkloadApiOutcome = { ok: false, target: 'unix:///agent.sock', error: 'cannot reach the Workload API at unix:///agent.sock: no socket at that path' };

test('workload-api: ok with the SVID count when the agent answered', () => {
  const r = checkWorkloadApi(outcome());
  assert.equal(r.status, 'ok');
  assert.match(r.detail, /1 SVID/);
});
test('workload-api: fails with the reason and a fix when it did not', () => {
  const r = checkWorkloadApi(down);
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /no socket/);
  assert.match(r.fix, /SPIFFE_ENDPOINT_SOCKET/);
});

const svidRows: { name: string; leaf?: SpecOverrides; hint?: string; wantHint?: string; now: number; status: string; detail: RegExp }[] = [
  { name: 'valid, plenty left', now: T0, status: 'ok', detail: /expires in 1h/ },
  { name: 'expired', now: T0 + 2 * HOUR, status: 'fail', detail: /expired 1h ago/ },
  { name: 'under a third of its lifetime left', now: T0 + 45 * 60 * SECOND, status: 'warn', detail: /under a third/ },
  { name: 'no SVID with the configured hint', hint: 'internal', wantHint: 'external', now: T0, status: 'fail', detail: /no SVID with hint "external"/ },
  { name: 'the SVID with the configured hint', hint: 'internal', wantHint: 'internal', now: T0, status: 'ok', detail: /expires in/ },
];
for (const row of svidRows) {
  test(`svid: ${row.name}`, () => {
    const r = checkSvid(outcome(row.leaf, { hint: row.hint ?? '' }), row.wantHint ?? '', row.now);
    assert.equal(r.status, row.status, r.detail);
    assert.match(r.detail, row.detail);
    assert.equal(r.fix === '', row.status === 'ok');
  });
}
test('svid: is skipped (warn) when the Workload API did not answer', () => assert.equal(checkSvid(down, '', T0).status, 'warn'));

test('clock-skew: ok when notBefore is in the past', () => assert.equal(checkClockSkew(outcome(), '', T0).status, 'ok'));
test('clock-skew: fails when notBefore is in the future: this clock is behind by more than the backdate', () => {
  const r = checkClockSkew(outcome(), '', T0 - 70 * SECOND);
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /1m 0s from now.*more than 1m 10s/);
  assert.match(r.fix, /NTP/);
});

test('bundles: ok, naming federated trust domains', () => {
  const bundles = [X509Bundle.fromCertificates(td, [root.certificate]), X509Bundle.fromCertificates(TrustDomain.parse('partner.org'), [fedRoot.certificate])];
  const r = checkBundles(outcome({}, { bundles }), '', null, T0);
  assert.equal(r.status, 'ok');
  assert.match(r.detail, /federated: partner\.org/);
});
const bundleRows: { name: string; o: Parameters<typeof outcome>[1]; expected?: TrustDomain; now?: number; status: string; detail: RegExp }[] = [
  { name: 'no bundle for our own trust domain', o: { bundles: [X509Bundle.fromCertificates(TrustDomain.parse('partner.org'), [fedRoot.certificate])] }, status: 'fail', detail: /no X\.509 bundle for our own trust domain/ },
  { name: 'the bundle does not verify the SVID', o: { issuer: otherRoot }, status: 'fail', detail: /does not verify/ },
  { name: 'the SVID is in another trust domain than configured', o: {}, expected: TrustDomain.parse('prod.example'), status: 'fail', detail: /configuration says prod\.example/ },
  { name: 'an expired CA in a bundle', o: {}, now: T0 + 25 * HOUR, status: 'warn', detail: /expired CA certificates/ },
];
for (const row of bundleRows) {
  test(`bundles: ${row.name}`, () => {
    const r = checkBundles(outcome({}, row.o), '', row.expected ?? null, row.now ?? T0);
    assert.equal(r.status, row.status, r.detail);
    assert.match(r.detail, row.detail);
  });
}
