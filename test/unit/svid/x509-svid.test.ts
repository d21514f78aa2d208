import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { CertificateAuthority, type KeyType } from '../../../sidecar/devagent/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import {
  X509SvidError,
  parseX509Svid,
  parseX509SvidCertificates,
  parseX509SvidPem,
  toPem,
  type X509SvidErrorCode,
} from '../../../sidecar/svid/index.ts';
import { keyPair, makeIntermediate, makeLeaf, makeRoot, type SpecOverrides, type TestCa } from '../../support/certs.ts';

const ID = 'spiffe://example.org/workload';
const root = makeRoot();
const inter = makeIntermediate(root);

function rejects(code: X509SvidErrorCode) {
  return (err: unknown) => {
    assert.ok(err instanceof X509SvidError, `expected X509SvidError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, /^x509svid: /);
    return true;
  };
}

/** A leaf from `inter` with one change, sent with the intermediate. */
function chainWithLeaf(overrides: SpecOverrides, id = ID) {
  const leaf = makeLeaf(inter, id, overrides);
  return { chain: Buffer.concat([leaf.der, inter.der]), key: leaf.keyPkcs8Der };
}

/** A valid leaf from an intermediate with one change. */
function chainWithIntermediate(overrides: SpecOverrides) {
  const ca: TestCa = makeIntermediate(root, 'example.org', overrides);
  const leaf = makeLeaf(ca, ID);
  return { chain: Buffer.concat([leaf.der, ca.der]), key: leaf.keyPkcs8Der };
}

test('parseX509Svid accepts a SPIRE-shaped SVID with an intermediate', () => {
  const { chain, key } = chainWithLeaf({ dnsSans: ['web.local'] });
  const svid = parseX509Svid(chain, key, 'internal');
  assert.equal(svid.id.toString(), ID);
  assert.equal(svid.hint, 'internal');
  assert.equal(svid.certificates.length, 2);
  assert.deepEqual(svid.certificates[0]!.dnsSans, ['web.local']);
  assert.equal(svid.notAfter.getTime(), svid.certificates[0]!.notAfter.getTime());
  assert.equal(svid.privateKey.asymmetricKeyType, 'ec');
  assert.equal(parseX509Svid(chain, key).hint, '');
});

// One row per rule, in go-spiffe's Parse order (go-spiffe v2
// svid/x509svid/svid.go) plus the spec's keyUsage presence/criticality. Each input is valid except for its one defect,
// so removing the check makes the row fail.
const rows: Array<{ rule: string; code: X509SvidErrorCode; input: () => { chain: Buffer; key: Buffer } }> = [
  { rule: 'at least one certificate', code: 'x509svid.no_certificates', input: () => ({ chain: Buffer.alloc(0), key: chainWithLeaf({}).key }) },
  { rule: 'chain is DER certificates', code: 'x509svid.malformed', input: () => ({ chain: Buffer.from([0x30, 0x03, 1, 2, 3]), key: chainWithLeaf({}).key }) },
  { rule: 'leaf has a URI SAN', code: 'x509svid.no_uri_san', input: () => chainWithLeaf({ uriSans: [], dnsSans: ['a.example'] }) },
  { rule: 'leaf has one URI SAN', code: 'x509svid.multiple_uri_sans', input: () => chainWithLeaf({ uriSans: [ID, 'spiffe://example.org/other'] }) },
  { rule: 'empty subject needs a critical SAN', code: 'x509svid.san_not_critical', input: () => chainWithLeaf({ subject: [], subjectAltNameCritical: false }) },
  { rule: 'URI SAN is a SPIFFE ID', code: 'x509svid.bad_spiffe_id', input: () => chainWithLeaf({ uriSans: ['https://example.org/workload'] }) },
  { rule: 'SPIFFE ID is lowercase-host', code: 'x509svid.bad_spiffe_id', input: () => chainWithLeaf({ uriSans: ['spiffe://Example.org/workload'] }) },
  { rule: 'leaf ID has a non-root path', code: 'x509svid.root_path', input: () => chainWithLeaf({ uriSans: ['spiffe://example.org'] }) },
  { rule: 'leaf is not a CA', code: 'x509svid.leaf_is_ca', input: () => chainWithLeaf({ basicConstraints: { ca: true } }) },
  { rule: 'leaf has keyUsage', code: 'x509svid.key_usage_missing', input: () => chainWithLeaf({ keyUsage: undefined }) },
  { rule: 'leaf keyUsage is critical', code: 'x509svid.key_usage_not_critical', input: () => chainWithLeaf({ keyUsage: { usages: ['digitalSignature'], critical: false } }) },
  { rule: 'leaf has digitalSignature', code: 'x509svid.leaf_no_digital_signature', input: () => chainWithLeaf({ keyUsage: { usages: ['keyEncipherment', 'keyAgreement'] } }) },
  { rule: 'leaf lacks keyCertSign', code: 'x509svid.leaf_key_cert_sign', input: () => chainWithLeaf({ keyUsage: { usages: ['digitalSignature', 'keyCertSign'] } }) },
  { rule: 'leaf lacks cRLSign', code: 'x509svid.leaf_crl_sign', input: () => chainWithLeaf({ keyUsage: { usages: ['digitalSignature', 'cRLSign'] } }) },
  { rule: 'signing cert is a CA', code: 'x509svid.signing_cert_not_ca', input: () => chainWithIntermediate({ basicConstraints: { ca: false } }) },
  { rule: 'signing cert has basicConstraints', code: 'x509svid.signing_cert_not_ca', input: () => chainWithIntermediate({ basicConstraints: undefined }) },
  { rule: 'signing cert has keyUsage', code: 'x509svid.key_usage_missing', input: () => chainWithIntermediate({ keyUsage: undefined }) },
  { rule: 'signing cert keyUsage is critical', code: 'x509svid.key_usage_not_critical', input: () => chainWithIntermediate({ keyUsage: { usages: ['keyCertSign'], critical: false } }) },
  { rule: 'signing cert has keyCertSign', code: 'x509svid.signing_cert_no_key_cert_sign', input: () => chainWithIntermediate({ keyUsage: { usages: ['cRLSign', 'digitalSignature'] } }) },
  { rule: 'private key present', code: 'x509svid.no_private_key', input: () => ({ chain: chainWithLeaf({}).chain, key: Buffer.alloc(0) }) },
  { rule: 'private key is PKCS#8', code: 'x509svid.malformed_key', input: () => ({ chain: chainWithLeaf({}).chain, key: Buffer.from([0x30, 0x00]) }) },
  {
    rule: 'private key is PKCS#8, not SEC1',
    code: 'x509svid.malformed_key',
    input: () => {
      const leaf = makeLeaf(inter, ID);
      return { chain: Buffer.concat([leaf.der, inter.der]), key: leaf.privateKey.export({ type: 'sec1', format: 'der' }) };
    },
  },
  {
    rule: 'private key is RSA, EC or Ed25519',
    code: 'x509svid.unsupported_key',
    input: () => ({ chain: chainWithLeaf({}).chain, key: generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'der' }) }),
  },
  { rule: 'private key matches the leaf', code: 'x509svid.key_mismatch', input: () => ({ chain: chainWithLeaf({}).chain, key: chainWithLeaf({}).key }) },
];

for (const row of rows) {
  test(`parseX509Svid rule: ${row.rule} → ${row.code}`, () => {
    const { chain, key } = row.input();
    assert.throws(() => parseX509Svid(chain, key), rejects(row.code));
  });
}

test('parseX509Svid leaves dates, EKU and signatures to the verifier (as go-spiffe x509svid.Parse does)', () => {
  const expired = chainWithLeaf({ notBefore: new Date(0), notAfter: new Date(1000), extKeyUsage: undefined });
  assert.equal(parseX509Svid(expired.chain, expired.key).id.toString(), ID);
  const stranger = makeLeaf(makeRoot('other.org'), ID);
  assert.equal(parseX509Svid(stranger.der, stranger.keyPkcs8Der).id.toString(), ID);
});

test('parseX509Svid accepts every CA key type and an Ed25519 leaf', async () => {
  const td = TrustDomain.parse('example.org');
  const id = SpiffeId.parse(ID);
  for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-4096'] as KeyType[]) {
    const ca = await CertificateAuthority.create({ trustDomain: td, keyType });
    const issued = await ca.issueX509Svid({ id, ttlMs: 60_000 });
    const svid = parseX509Svid(issued.chainDer, issued.keyPkcs8Der);
    assert.equal(svid.id.toString(), ID, keyType);
    assert.equal(svid.privateKey.asymmetricKeyType, keyType.startsWith('ec') ? 'ec' : 'rsa');
  }
  const ed = makeLeaf(inter, ID, {}, keyPair('ed25519'));
  assert.equal(parseX509Svid(Buffer.concat([ed.der, inter.der]), ed.keyPkcs8Der).privateKey.asymmetricKeyType, 'ed25519');
});

test('parseX509SvidPem reads CERTIFICATE and PRIVATE KEY blocks, skipping others', () => {
  const leaf = makeLeaf(inter, ID);
  const chainPem = `${toPem(leaf.der, 'CERTIFICATE')}${toPem(inter.der, 'CERTIFICATE')}`;
  const keyPem = `${toPem(Buffer.from([1]), 'EC PARAMETERS')}${leaf.privateKey.export({ type: 'pkcs8', format: 'pem' })}`;
  const svid = parseX509SvidPem(chainPem, keyPem, 'h');
  assert.equal(svid.id.toString(), ID);
  assert.equal(svid.certChainPem(), chainPem);
  assert.ok(svid.certChainDer().equals(Buffer.concat([leaf.der, inter.der])));
  assert.equal(svid.privateKeyPem(), leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  assert.ok(svid.privateKeyPkcs8Der().equals(leaf.keyPkcs8Der));
  const sec1 = leaf.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  assert.throws(() => parseX509SvidPem(chainPem, sec1), rejects('x509svid.no_private_key'));
  assert.throws(() => parseX509SvidPem('', keyPem), rejects('x509svid.no_certificates'));
  assert.throws(() => parseX509SvidPem('-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n', keyPem), rejects('x509svid.malformed'));
  assert.throws(() => parseX509SvidPem(chainPem, '-----BEGIN PRIVATE KEY-----\nAAAA'), rejects('x509svid.malformed_key'));
});

test('X509Svid never shows its private key in JSON, util.inspect or enumerable fields', () => {
  const { chain, key } = chainWithLeaf({});
  const svid = parseX509Svid(chain, key, 'h');
  const pem = svid.privateKeyPem();
  const b64 = pem.split('\n')[1]!;
  const json = JSON.stringify(svid);
  assert.deepEqual(JSON.parse(json), {
    id: ID,
    hint: 'h',
    notBefore: svid.notBefore.toISOString(),
    notAfter: svid.notAfter.toISOString(),
    chainLength: 2,
  });
  for (const text of [json, inspect(svid), inspect(svid, { showHidden: true, depth: 10 }), inspect({ svid }), String(Object.keys(svid))]) {
    assert.ok(!text.includes(b64), text);
    assert.ok(!/privateKey|PRIVATE/.test(text), text);
  }
  assert.ok(Object.isFrozen(svid));
});

test('parseX509SvidCertificates applies the certificate rules without a key', () => {
  const leaf = makeLeaf(inter, ID);
  const { id, certificates } = parseX509SvidCertificates([leaf.der, inter.der]);
  assert.equal(id.toString(), ID);
  assert.equal(certificates.length, 2);
  assert.throws(() => parseX509SvidCertificates([]), rejects('x509svid.no_certificates'));
  assert.throws(() => parseX509SvidCertificates([leaf.der, leaf.der]), rejects('x509svid.signing_cert_not_ca'));
});
