/**
 * Certificate fixtures made at test time with the dev CA's builder: SPIRE-
 * shaped roots, intermediates and leaves with one knob per rule, so each test
 * row can break exactly one rule. Times are relative to the fixed {@link T0}
 * so tests pass `at: T0` and never depend on the wall clock.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { buildCertificate, generateKeySync, type CertificateSpec, type KeyPair, type KeyType } from '../../sidecar/devagent/index.ts';
import { decodeCertificate, type CertificateInfo } from '../../sidecar/x509/index.ts';

/** The instant builder fixtures are valid around. */
export const T0 = Date.parse('2030-01-01T00:00:00Z');
export const SECOND = 1000;
export const HOUR = 3600 * SECOND;

/** A spec override; `undefined` removes a field (e.g. `{ keyUsage: undefined }` drops the extension). */
export type SpecOverrides = { -readonly [K in keyof CertificateSpec]?: CertificateSpec[K] | undefined };

/** A CA usable as an issuer by the builder, with its DER. */
export interface TestCa {
  readonly certificate: CertificateInfo;
  readonly privateKey: KeyObject;
  readonly der: Buffer;
}

/** A leaf with its key in both forms tests need. */
export interface TestLeaf {
  readonly der: Buffer;
  readonly certificate: CertificateInfo;
  readonly privateKey: KeyObject;
  readonly keyPkcs8Der: Buffer;
}

/** Generates a key pair synchronously (tests; the CA uses the async generator). */
export function keyPair(type: KeyType | 'ed25519' | 'x25519' = 'ec-p256'): KeyPair {
  if (type === 'ed25519') return generateKeyPairSync('ed25519');
  if (type === 'x25519') return generateKeyPairSync('x25519');
  return generateKeySync(type);
}

let caCounter = 0;

/** A SPIRE-like CA spec: URI SAN spiffe://td, cA=true, critical keyUsage keyCertSign|cRLSign, valid T0−1h..T0+24h. */
export function caSpec(td: string, overrides: SpecOverrides = {}): CertificateSpec {
  return merge(
    {
      subject: [
        { type: 'O', value: 'SPIFFE' },
        { type: 'CN', value: `${td} CA ${++caCounter}` },
      ],
      notBefore: new Date(T0 - HOUR),
      notAfter: new Date(T0 + 24 * HOUR),
      uriSans: [`spiffe://${td}`],
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
    },
    overrides,
  );
}

/** SPIRE's workload profile (SPIRE pkg/server/credtemplate/builder.go) for `id`, valid T0−10s..T0+1h. */
export function leafSpec(id: string, overrides: SpecOverrides = {}): CertificateSpec {
  return merge(
    {
      subject: [
        { type: 'C', value: 'US' },
        { type: 'O', value: 'SPIRE' },
      ],
      notBefore: new Date(T0 - 10 * SECOND),
      notAfter: new Date(T0 + HOUR),
      uriSans: [id],
      basicConstraints: { ca: false },
      keyUsage: { usages: ['digitalSignature', 'keyEncipherment', 'keyAgreement'] },
      extKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
    },
    overrides,
  );
}

/** A self-signed root for `td`. */
export function makeRoot(td = 'example.org', overrides: SpecOverrides = {}, key: KeyPair = keyPair()): TestCa {
  const der = buildCertificate(caSpec(td, overrides), key.privateKey);
  return { der, certificate: decodeCertificate(der), privateKey: key.privateKey };
}

/** An intermediate CA for `td` signed by `issuer`. */
export function makeIntermediate(issuer: TestCa, td = 'example.org', overrides: SpecOverrides = {}, key: KeyPair = keyPair()): TestCa {
  const der = buildCertificate(caSpec(td, overrides), key.publicKey, issuer);
  return { der, certificate: decodeCertificate(der), privateKey: key.privateKey };
}

/** A workload leaf for `id` signed by `issuer` (self-signed when `issuer` is 'self'). */
export function makeLeaf(
  issuer: TestCa | 'self',
  id = 'spiffe://example.org/workload',
  overrides: SpecOverrides = {},
  key: KeyPair = keyPair(),
): TestLeaf {
  const spec = leafSpec(id, overrides);
  const der = issuer === 'self' ? buildCertificate(spec, key.privateKey) : buildCertificate(spec, key.publicKey, issuer);
  return {
    der,
    certificate: decodeCertificate(der),
    privateKey: key.privateKey,
    keyPkcs8Der: key.privateKey.export({ type: 'pkcs8', format: 'der' }),
  };
}

function merge(base: CertificateSpec, overrides: SpecOverrides): CertificateSpec {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out as unknown as CertificateSpec;
}
