import { describeError, SidecarError } from '../core/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import { decodeCertificate, parsePemCertificates, splitDerCertificates, toPem, type CertificateInfo } from '../x509/index.ts';

/** Reason an X.509 bundle cannot be built. */
export type X509BundleErrorCode = 'x509bundle.malformed';

/** Raised when bundle bytes or PEM do not hold valid certificates; `cause` is the CertificateError. */
export class X509BundleError extends SidecarError {
  declare readonly code: X509BundleErrorCode;

  constructor(code: X509BundleErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The X.509 authorities (CA certificates) of one trust domain: what that
 * trust domain's X509-SVIDs are verified against. Immutable.
 *
 * The certificates are decoded once here, because peer verification reads
 * them on every TLS handshake. Several roots are normal during a CA rotation.
 * Certificates are kept in the order given, duplicates dropped; they are not
 * checked for being CAs (go-spiffe does not either; an anchor is trusted as given).
 */
export class X509Bundle {
  readonly trustDomain: TrustDomain;
  readonly authorities: readonly CertificateInfo[];

  private constructor(td: TrustDomain, authorities: CertificateInfo[]) {
    this.trustDomain = td;
    this.authorities = Object.freeze(authorities);
    Object.freeze(this);
  }

  /**
   * Builds a bundle from concatenated DER certificates (the Workload API
   * encoding, SPIFFE_Workload_API.md §5.1). Empty input is an empty bundle,
   * which trusts nothing.
   * Throws X509BundleError 'x509bundle.malformed'.
   */
  static fromDer(td: TrustDomain, concatenatedDer: Uint8Array): X509Bundle {
    return X509Bundle.#decode(td, () => splitDerCertificates(concatenatedDer));
  }

  /** Builds a bundle from the CERTIFICATE blocks of a PEM text. Throws X509BundleError 'x509bundle.malformed'. */
  static fromPem(td: TrustDomain, pem: string): X509Bundle {
    return X509Bundle.#decode(td, () => parsePemCertificates(pem));
  }

  /** Builds a bundle from already decoded certificates (duplicates dropped). */
  static fromCertificates(td: TrustDomain, certificates: Iterable<CertificateInfo>): X509Bundle {
    return new X509Bundle(td, dedupe(certificates));
  }

  static #decode(td: TrustDomain, split: () => Buffer[]): X509Bundle {
    try {
      return new X509Bundle(td, dedupe(split().map((der, i) => decodeCertificate(der, i))));
    } catch (cause) {
      const what = describeError(cause);
      throw new X509BundleError('x509bundle.malformed', `x509bundle: bundle for trust domain "${td.name}" is malformed: ${what}`, { cause });
    }
  }

  /** The authorities as concatenated DER, the Workload API encoding. */
  toDer(): Buffer {
    return Buffer.concat(this.authorities.map((a) => a.der));
  }

  /** The authorities as PEM CERTIFICATE blocks, in order. */
  toPem(): string {
    return this.authorities.map((a) => toPem(a.der, 'CERTIFICATE')).join('');
  }

  /** True when `o` is for the same trust domain and holds the same certificates in the same order. */
  equals(o: X509Bundle): boolean {
    if (!(o instanceof X509Bundle) || !o.trustDomain.equals(this.trustDomain)) return false;
    if (o.authorities.length !== this.authorities.length) return false;
    return this.authorities.every((a, i) => a.der.equals(o.authorities[i]!.der));
  }
}

function dedupe(certs: Iterable<CertificateInfo>): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  for (const c of certs) if (!out.some((o) => o.der.equals(c.der))) out.push(c);
  return out;
}
