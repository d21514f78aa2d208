import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';
import type { SpiffeId } from '../spiffe/index.ts';
import {
  CertificateError,
  decodeCertificate,
  parsePemBlocks,
  parsePemCertificates,
  splitDerCertificates,
  toPem,
  type CertificateInfo,
} from '../x509/index.ts';
import { X509SvidError, type X509SvidErrorCode } from './x509-svid-error.ts';
import { checkLeaf, checkSigningCert, type RuleFailure } from './x509-svid-rules.ts';

/** Key algorithms go-spiffe accepts for an SVID key (keyMatches in go-spiffe v2 svid/x509svid/svid.go). */
const SUPPORTED_KEY_TYPES = new Set(['rsa', 'ec', 'ed25519']);

let construct: (id: SpiffeId, certs: readonly CertificateInfo[], key: KeyObject, hint: string) => X509Svid;

/**
 * An X509-SVID of this workload: its SPIFFE ID, the certificate chain (leaf
 * first, then intermediates, as sent to peers) and the private key.
 *
 * The key is held in a private field: it is not an enumerable property, so
 * JSON.stringify and util.inspect show only the ID, hint and validity.
 * Build one with {@link parseX509Svid} or {@link parseX509SvidPem}.
 */
export class X509Svid {
  readonly id: SpiffeId;
  /** Leaf first, then intermediates. */
  readonly certificates: readonly CertificateInfo[];
  /** The Workload API hint ('' when none). */
  readonly hint: string;
  /** The leaf's notBefore. */
  readonly notBefore: Date;
  /** The leaf's notAfter (SPIRE caps it at the CA's expiry, SPIRE pkg/server/credtemplate/builder.go). */
  readonly notAfter: Date;
  readonly #privateKey: KeyObject;

  private constructor(id: SpiffeId, certs: readonly CertificateInfo[], key: KeyObject, hint: string) {
    this.id = id;
    this.certificates = Object.freeze([...certs]);
    this.hint = hint;
    const leaf = certs[0]!;
    this.notBefore = new Date(leaf.notBefore.getTime());
    this.notAfter = new Date(leaf.notAfter.getTime());
    this.#privateKey = key;
    Object.freeze(this);
  }

  static {
    construct = (id, certs, key, hint) => new X509Svid(id, certs, key, hint);
  }

  /** The private key matching the leaf. Never log it. */
  get privateKey(): KeyObject {
    return this.#privateKey;
  }

  /** The chain as PEM CERTIFICATE blocks, leaf first (what a TLS context takes as `cert`). */
  certChainPem(): string {
    return this.certificates.map((c) => toPem(c.der, 'CERTIFICATE')).join('');
  }

  /** The chain as concatenated DER, leaf first (the Workload API encoding). */
  certChainDer(): Buffer {
    return Buffer.concat(this.certificates.map((c) => c.der));
  }

  /** The private key as unencrypted PKCS#8 PEM. Never log it. */
  privateKeyPem(): string {
    return this.#privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** The private key as unencrypted PKCS#8 DER (the Workload API encoding). Never log it. */
  privateKeyPkcs8Der(): Buffer {
    return this.#privateKey.export({ type: 'pkcs8', format: 'der' });
  }

  /** A log-safe summary: ID, hint, validity and chain length; never the key. */
  toJSON(): { id: string; hint: string; notBefore: string; notAfter: string; chainLength: number } {
    return {
      id: this.id.toString(),
      hint: this.hint,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
      chainLength: this.certificates.length,
    };
  }

  /** util.inspect shows the same summary as toJSON. */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `X509Svid ${inspect(this.toJSON(), options)}`;
  }
}

/** Where proxies get the local X509-SVID to present. One method, so tests can pass a static one. */
export interface X509SvidSource {
  /** The current SVID. Throws when there is none (not fetched yet, or the source is closed). */
  getX509Svid(): X509Svid;
}

/**
 * Parses this workload's X509-SVID from the Workload API encoding: the chain
 * as concatenated DER (leaf first) and the key as PKCS#8 DER.
 *
 * Checks, in this order (go-spiffe v2 svid/x509svid/svid.go ParseRaw, plus
 * X509-SVID.md §4.3's keyUsage presence and criticality): at least one
 * certificate; the leaf rules of {@link checkLeaf}; every further certificate is a CA with a
 * critical keyUsage holding keyCertSign; then the key is present, decodable,
 * RSA/EC/Ed25519, and matches the leaf. Dates and signatures are not checked
 * here (a peer verifies them); throws X509SvidError.
 */
export function parseX509Svid(chainDer: Uint8Array, keyPkcs8Der: Uint8Array, hint = ''): X509Svid {
  const { id, certificates } = checkedChain(() => splitDerCertificates(chainDer));
  return construct(id, certificates, parseKey(keyPkcs8Der, certificates[0]!), hint);
}

/**
 * Same as {@link parseX509Svid} for PEM input: CERTIFICATE blocks (leaf
 * first) and one `PRIVATE KEY` (PKCS#8) block. Other block types are skipped,
 * as go-spiffe does, so an `EC PRIVATE KEY` block alone is 'x509svid.no_private_key'.
 */
export function parseX509SvidPem(chainPem: string, keyPem: string, hint = ''): X509Svid {
  const { id, certificates } = checkedChain(() => parsePemCertificates(chainPem));
  let keyDer: Buffer | undefined;
  try {
    keyDer = parsePemBlocks(keyPem).find((b) => b.label === 'PRIVATE KEY')?.der;
  } catch (cause) {
    throw new X509SvidError('x509svid.malformed_key', 'x509svid: private key PEM is malformed', { cause });
  }
  return construct(id, certificates, parseKey(keyDer ?? Buffer.alloc(0), certificates[0]!), hint);
}

/**
 * Applies the certificate rules of {@link parseX509Svid} to a chain without a
 * key (used by `inspect` and anyone holding only certificates). Returns the
 * leaf's SPIFFE ID and the decoded chain; throws X509SvidError.
 */
export function parseX509SvidCertificates(chainDer: readonly Uint8Array[]): { id: SpiffeId; certificates: CertificateInfo[] } {
  if (chainDer.length === 0) throw new X509SvidError('x509svid.no_certificates', 'x509svid: no certificates found');
  let certificates: CertificateInfo[];
  try {
    certificates = chainDer.map((der, i) => decodeCertificate(der, i));
  } catch (cause) {
    throw malformedChain(cause);
  }
  const leaf = checkLeaf(certificates[0]!);
  if ('failure' in leaf) throw toError(leaf.failure);
  for (let i = 1; i < certificates.length; i++) {
    const failure = checkSigningCert(certificates[i]!, `signing certificate ${i}`, {
      notCa: 'x509svid.signing_cert_not_ca',
      noKeyCertSign: 'x509svid.signing_cert_no_key_cert_sign',
    });
    if (failure) throw toError(failure);
  }
  return { id: leaf.id, certificates };
}

/** {@link parseX509SvidCertificates} of the certificates `split` reads from the DER or PEM input; a split that fails is a malformed chain. */
function checkedChain(split: () => Buffer[]): { id: SpiffeId; certificates: CertificateInfo[] } {
  let ders: Buffer[];
  try {
    ders = split();
  } catch (cause) {
    throw malformedChain(cause);
  }
  return parseX509SvidCertificates(ders);
}

function parseKey(der: Uint8Array, leaf: CertificateInfo): KeyObject {
  if (der.length === 0) throw new X509SvidError('x509svid.no_private_key', 'x509svid: no private key found');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new X509SvidError('x509svid.malformed_key', 'x509svid: private key is not valid PKCS#8 DER', { cause });
  }
  if (!SUPPORTED_KEY_TYPES.has(key.asymmetricKeyType ?? '')) {
    throw new X509SvidError('x509svid.unsupported_key', `x509svid: unsupported private key type ${String(key.asymmetricKeyType)}; expected RSA, EC or Ed25519`);
  }
  // A key that does not match the leaf would make every TLS handshake fail
  // later with an opaque error; reject it where the cause is clear.
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const fromLeaf = leaf.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromLeaf)) throw new X509SvidError('x509svid.key_mismatch', 'x509svid: private key does not match the leaf certificate');
  return key;
}

function malformedChain(cause: unknown): X509SvidError {
  const what = cause instanceof CertificateError ? cause.message : String(cause);
  return new X509SvidError('x509svid.malformed', `x509svid: certificate chain is malformed: ${what}`, { cause });
}

function toError(f: RuleFailure<X509SvidErrorCode>): X509SvidError {
  return new X509SvidError(f.code, f.message, f.cause === undefined ? undefined : { cause: f.cause });
}
