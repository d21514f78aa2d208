import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { CertificateAuthority, JwtAuthority } from '../../../sidecar/devagent/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import {
  WorkloadApiError,
  loadWorkloadApiProto,
  parseJwtBundlesResponse,
  parseX509BundlesResponse,
  parseX509SvidResponse,
  type X509SvidMessage,
  type X509SvidResponseMessage,
} from '../../../sidecar/workload/index.ts';

const td = TrustDomain.parse('example.org');
const partner = TrustDomain.parse('partner.org');
const service = loadWorkloadApiProto().service;

let ca: CertificateAuthority;
let partnerCa: CertificateAuthority;
let svidA: X509SvidMessage;
let svidB: X509SvidMessage;

before(async () => {
  ca = await CertificateAuthority.create({ trustDomain: td });
  partnerCa = await CertificateAuthority.create({ trustDomain: partner });
  const issue = async (path: string, hint = ''): Promise<X509SvidMessage> => {
    const id = SpiffeId.parse(`spiffe://example.org${path}`);
    const r = await ca.issueX509Svid({ id, ttlMs: 3_600_000 });
    return { spiffe_id: id.toString(), x509_svid: r.chainDer, x509_svid_key: r.keyPkcs8Der, bundle: ca.bundleDer(), hint };
  };
  svidA = await issue('/a');
  svidB = await issue('/b');
});

/** Encodes with the real proto and decodes again, exactly as a message crosses the socket. */
function wire(msg: Partial<X509SvidResponseMessage>): X509SvidResponseMessage {
  const def = service.FetchX509SVID;
  return def.responseDeserialize(def.responseSerialize({ svids: [], crl: [], federated_bundles: {}, ...msg } as X509SvidResponseMessage));
}

function rejects(msg: X509SvidResponseMessage, fragment: string): void {
  assert.throws(
    () => parseX509SvidResponse(msg),
    (err: unknown) => {
      assert.ok(err instanceof WorkloadApiError, String(err));
      assert.equal(err.code, 'workload.bad_message');
      assert.ok(err.message.includes(fragment), `${err.message} should mention ${fragment}`);
      return true;
    },
  );
}

test('a valid message: SVIDs in order, own and federated bundles', () => {
  const ctx = parseX509SvidResponse(wire({ svids: [svidA, svidB], federated_bundles: { 'spiffe://partner.org': partnerCa.bundleDer() } }));
  assert.deepEqual(ctx.svids.map((s) => s.id.toString()), ['spiffe://example.org/a', 'spiffe://example.org/b']);
  assert.deepEqual(ctx.bundles.trustDomains().map((t) => t.name), ['example.org', 'partner.org']);
  assert.ok(ctx.bundles.get(td)!.toDer().equals(ca.bundleDer()));
});

test('an empty SVID list is invalid (spec: at least one)', () => {
  rejects(wire({ svids: [] }), 'contains no SVIDs');
});

test('garbage certificate DER is invalid and names the SVID', () => {
  rejects(wire({ svids: [{ ...svidA, x509_svid: Buffer.from('not a certificate') }] }), 'svids[0] ("spiffe://example.org/a")');
});

test('an empty certificate chain is invalid', () => {
  rejects(wire({ svids: [svidA, { ...svidB, x509_svid: Buffer.alloc(0) }] }), 'svids[1]');
});

test('a garbage private key is invalid', () => {
  rejects(wire({ svids: [{ ...svidA, x509_svid_key: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]) }] }), 'svids[0]');
});

test("a key that does not match the leaf (another SVID's key) is invalid", () => {
  rejects(wire({ svids: [{ ...svidA, x509_svid_key: svidB.x509_svid_key }] }), 'svids[0]');
});

test("spiffe_id must match the certificate's ID", () => {
  rejects(wire({ svids: [{ ...svidA, spiffe_id: 'spiffe://example.org/b' }] }), "does not match the certificate's ID");
});

test('a garbage own bundle is invalid', () => {
  rejects(wire({ svids: [{ ...svidA, bundle: Buffer.from('junk') }] }), 'bundle for trust domain example.org is not a valid X.509 bundle');
});

test('a federated bundle keyed by a bare name is invalid (keys are trust-domain IDs)', () => {
  rejects(wire({ svids: [svidA], federated_bundles: { 'partner.org': partnerCa.bundleDer() } }), 'is not a trust-domain ID');
});

test('a federated bundle keyed by an ID with a path is invalid', () => {
  rejects(wire({ svids: [svidA], federated_bundles: { 'spiffe://partner.org/x': partnerCa.bundleDer() } }), 'has a path');
});

test('garbage federated bundle DER is invalid', () => {
  rejects(wire({ svids: [svidA], federated_bundles: { 'spiffe://partner.org': Buffer.from('junk') } }), 'federated_bundles[spiffe://partner.org]');
});

test('a federated entry never replaces the bundle delivered with the SVID', () => {
  const ctx = parseX509SvidResponse(wire({ svids: [svidA], federated_bundles: { 'spiffe://example.org': partnerCa.bundleDer() } }));
  assert.ok(ctx.bundles.get(td)!.toDer().equals(ca.bundleDer()));
});

test('the first SVID with a hint wins; SVIDs without a hint are never de-duplicated', () => {
  const ctx = parseX509SvidResponse(
    wire({ svids: [{ ...svidA, hint: 'internal' }, { ...svidB, hint: 'internal' }, { ...svidA, hint: '' }, { ...svidB, hint: '' }] }),
  );
  assert.deepEqual(
    ctx.svids.map((s) => `${s.id.path}:${s.hint}`),
    ['/a:internal', '/a:', '/b:'],
  );
});

test('X509BundlesResponse: keys are validated, values parsed', () => {
  const def = service.FetchX509Bundles;
  const enc = (bundles: Record<string, Buffer>) => def.responseDeserialize(def.responseSerialize({ crl: [], bundles }));
  const set = parseX509BundlesResponse(enc({ 'spiffe://example.org': ca.bundleDer(), 'spiffe://partner.org': partnerCa.bundleDer() }));
  assert.equal(set.size, 2);
  assert.throws(() => parseX509BundlesResponse(enc({ 'example.org': ca.bundleDer() })), { code: 'workload.bad_message' });
  assert.throws(() => parseX509BundlesResponse(enc({ 'spiffe://example.org': Buffer.from('junk') })), { code: 'workload.bad_message' });
});

test('JWTBundlesResponse: keys are validated, JWKS parsed', () => {
  const def = service.FetchJWTBundles;
  const enc = (bundles: Record<string, Buffer>) => def.responseDeserialize(def.responseSerialize({ bundles }));
  const jwt = JwtAuthority.generate(td);
  const set = parseJwtBundlesResponse(enc({ 'spiffe://example.org': Buffer.from(jwt.jwks()) }));
  assert.ok(set.get(td)?.findKey(jwt.kid));
  assert.throws(() => parseJwtBundlesResponse(enc({ 'example.org': Buffer.from(jwt.jwks()) })), { code: 'workload.bad_message' });
  assert.throws(() => parseJwtBundlesResponse(enc({ 'spiffe://example.org': Buffer.from('{"keys": 3}') })), (err: unknown) => {
    assert.ok(err instanceof WorkloadApiError);
    assert.equal(err.code, 'workload.bad_message');
    assert.match(err.message, /bundles\[spiffe:\/\/example.org\] is not a valid JWKS/);
    return true;
  });
});
