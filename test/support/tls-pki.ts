/**
 * Test PKI for the tls tests: small CAs and leaves built with the dev
 * agent's certificate builder, including the deliberately wrong ones
 * (expired, self-signed, CA as leaf, foreign trust domain), and a mutable
 * SVID/bundle source to drive rotation.
 */
import type { KeyObject } from 'node:crypto';
import { X509Bundle, X509BundleSet } from '../../sidecar/bundle/index.ts';
import { buildCertificate, generateKey, type KeyType, type KeyUsageBit } from '../../sidecar/devagent/index.ts';
import { TrustDomain } from '../../sidecar/spiffe/index.ts';
import { parseX509Svid, type X509Svid, type X509SvidSource } from '../../sidecar/svid/index.ts';
import { OID, decodeCertificate, toPem, type CertificateInfo } from '../../sidecar/x509/index.ts';

const HOUR = 3_600_000;

/** A CA whose key the test holds, so it can sign anything. */
export interface TestCa {
  readonly td: TrustDomain;
  readonly certificate: CertificateInfo;
  readonly privateKey: KeyObject;
  readonly bundle: X509Bundle;
}

/** A certificate chain and key as TLS options and as DER. */
export interface TestCreds {
  readonly chainDer: Buffer[];
  readonly leaf: CertificateInfo;
  readonly key: KeyObject;
  readonly certPem: string;
  readonly keyPem: string;
}

/** A self-signed SPIFFE root CA for trust domain `td` (URI SAN spiffe://td, keyCertSign|cRLSign). */
export async function makeCa(td: string, keyType: KeyType = 'ec-p256'): Promise<TestCa> {
  const k = await generateKey(keyType);
  const trustDomain = TrustDomain.parse(td);
  const der = buildCertificate(
    {
      subject: [{ type: 'O', value: 'test' }, { type: 'CN', value: `${td} root` }],
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + 24 * HOUR),
      uriSans: [trustDomain.idString()],
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
    },
    k.privateKey,
  );
  const certificate = decodeCertificate(der);
  return { td: trustDomain, certificate, privateKey: k.privateKey, bundle: X509Bundle.fromCertificates(trustDomain, [certificate]) };
}

/** Anything that can sign: a root CA or an intermediate, with the certificates to send between the leaf and the root. */
export interface TestIssuer {
  readonly certificate: CertificateInfo;
  readonly privateKey: KeyObject;
  /** DER of the intermediates from this issuer up to (not including) the root; empty or absent for a root. */
  readonly chainTail?: readonly Buffer[];
}

/** Options of {@link makeIntermediate}; defaults give a SPIRE-like intermediate CA (cA=true, critical keyCertSign|cRLSign). */
export interface IntermediateOptions {
  /** basicConstraints cA; false keeps the extension with cA=false, 'absent' leaves it out. Default true. */
  readonly ca?: boolean | 'absent';
  readonly usages?: readonly KeyUsageBit[];
  /** URI SAN; default the parent's trust-domain ID. */
  readonly uri?: string;
}

let intermediates = 0;

/** An intermediate CA signed by `parent`, as SPIRE's server CA below an UpstreamAuthority. */
export async function makeIntermediate(parent: TestIssuer, opts: IntermediateOptions = {}): Promise<TestIssuer> {
  const k = await generateKey('ec-p256');
  const ca = opts.ca ?? true;
  const der = buildCertificate(
    {
      subject: [{ type: 'O', value: 'SPIFFE' }, { type: 'CN', value: `intermediate ${++intermediates}` }],
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + 12 * HOUR),
      uriSans: [opts.uri ?? parent.certificate.uriSans[0]!],
      ...(ca === 'absent' ? {} : { basicConstraints: { ca } }),
      keyUsage: { usages: opts.usages ?? ['keyCertSign', 'cRLSign'] },
    },
    k.publicKey,
    { certificate: parent.certificate, privateKey: parent.privateKey },
  );
  return { certificate: decodeCertificate(der), privateKey: k.privateKey, chainTail: [der, ...(parent.chainTail ?? [])] };
}

/** The same leaf and key presented with another chain after the leaf (e.g. none, to leave out its intermediate). */
export function withChain(c: TestCreds, tail: readonly Buffer[]): TestCreds {
  return credsOf([c.chainDer[0]!, ...tail], c.key);
}

/** Options of {@link makeLeaf}; defaults give a valid X509-SVID leaf (SPIRE's profile). */
export interface LeafOptions {
  readonly keyType?: KeyType;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** basicConstraints cA (default false). */
  readonly isCa?: boolean;
  readonly usages?: readonly KeyUsageBit[];
}

/** A leaf for `id` signed by `ca` (sent with its chain tail), or self-signed when `ca` is null. */
export async function makeLeaf(ca: TestIssuer | null, id: string, opts: LeafOptions = {}): Promise<TestCreds> {
  const k = await generateKey(opts.keyType ?? 'ec-p256');
  const der = buildCertificate(
    {
      subject: [{ type: 'O', value: 'SPIRE' }],
      notBefore: opts.notBefore ?? new Date(Date.now() - 10_000),
      notAfter: opts.notAfter ?? new Date(Date.now() + HOUR),
      uriSans: [id],
      basicConstraints: { ca: opts.isCa ?? false },
      keyUsage: { usages: opts.usages ?? ['digitalSignature', 'keyEncipherment', 'keyAgreement'] },
      extKeyUsage: [OID.serverAuth, OID.clientAuth],
    },
    ca ? k.publicKey : k.privateKey,
    ca ? { certificate: ca.certificate, privateKey: ca.privateKey } : undefined,
  );
  return credsOf([der, ...(ca?.chainTail ?? [])], k.privateKey);
}

/** The CA's own certificate and key, presented as if it were a leaf. */
export function caAsLeaf(ca: TestCa): TestCreds {
  return credsOf([ca.certificate.der], ca.privateKey);
}

function credsOf(chainDer: Buffer[], key: KeyObject): TestCreds {
  return {
    chainDer,
    leaf: decodeCertificate(chainDer[0]!),
    key,
    certPem: chainDer.map((d) => toPem(d, 'CERTIFICATE')).join(''),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Parses creds as our own X509Svid (only valid SVIDs parse). */
export function svidOf(c: TestCreds): X509Svid {
  return parseX509Svid(Buffer.concat(c.chainDer), c.key.export({ type: 'pkcs8', format: 'der' }));
}

/** A bundle set of the given CAs' bundles. */
export function bundleSetOf(...cas: TestCa[]): X509BundleSet {
  return X509BundleSet.of(cas.map((c) => c.bundle));
}

/**
 * An SVID and bundle-set source whose contents the test swaps, as the
 * workload X509Source does on rotation (new objects, never mutated ones).
 */
export class MutableSource implements X509SvidSource {
  #svid: X509Svid;
  #bundles: X509BundleSet;
  /** How many times getX509Svid was called (the store's per-handshake check). */
  reads = 0;

  constructor(svid: X509Svid, bundles: X509BundleSet) {
    this.#svid = svid;
    this.#bundles = bundles;
  }

  getX509Svid(): X509Svid {
    this.reads++;
    return this.#svid;
  }

  bundles(): X509BundleSet {
    return this.#bundles;
  }

  setSvid(svid: X509Svid): void {
    this.#svid = svid;
  }

  setBundles(b: X509BundleSet): void {
    this.#bundles = b;
  }
}
