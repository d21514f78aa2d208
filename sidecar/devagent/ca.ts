import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { X509Bundle } from '../bundle/index.ts';
import { SidecarError, systemClock, type Clock } from '../core/index.ts';
import type { SpiffeId, TrustDomain } from '../spiffe/index.ts';
import { OID, decodeCertificate, type CertificateInfo } from '../x509/index.ts';
import { buildCertificate, generateKey, keyTypeOf, randomSerial, type CertificateSpec, type KeyType, type NameAttribute } from './cert-builder.ts';

/** Reasons the dev CA refuses to issue. */
export type CaErrorCode = 'ca.foreign_trust_domain' | 'ca.bad_id' | 'ca.bad_ttl' | 'ca.expired' | 'ca.bad_state';

/** Raised when the dev CA is asked for something SPIRE's CA would refuse. */
export class CaError extends SidecarError {
  declare readonly code: CaErrorCode;

  constructor(code: CaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Options of {@link CertificateAuthority.create}. */
export interface CertificateAuthorityOptions {
  readonly trustDomain: TrustDomain;
  /** Key type of the CA(s) and default for SVIDs; SPIRE's default is 'ec-p256'. */
  readonly keyType?: KeyType;
  readonly clock?: Clock;
  /** Lifetime of each CA certificate; default 24 h (SPIRE `ca_ttl`). */
  readonly caTtlMs?: number;
  /** Issue from an intermediate CA signed by the root, as SPIRE does with an UpstreamAuthority. */
  readonly intermediate?: boolean;
}

/**
 * What a CA needs to come back after a restart, from
 * {@link CertificateAuthority.exportState}. Holds the signing key: whoever
 * stores it must keep it private.
 */
export interface CertificateAuthorityState {
  /** DER of every root still published, oldest first; the last one is the current root. */
  readonly rootsDer: readonly Buffer[];
  /** DER of the intermediate CA below the current root, in intermediate mode only. */
  readonly intermediateDer?: Buffer;
  /** PKCS#8 DER of the signing CA's key: the intermediate's when there is one, else the current root's. */
  readonly signingKeyPkcs8Der: Buffer;
}

/** Options of {@link CertificateAuthority.issueX509Svid}. */
export interface IssueX509SvidOptions {
  readonly id: SpiffeId;
  readonly ttlMs: number;
  /** Default: the CA's key type. */
  readonly keyType?: KeyType;
  readonly dnsNames?: readonly string[];
}

/** An issued X509-SVID in Workload API encoding. */
export interface IssuedX509Svid {
  /** Concatenated DER, leaf first, then the intermediate CA if there is one. */
  readonly chainDer: Buffer;
  readonly keyPkcs8Der: Buffer;
  readonly notAfter: Date;
}

interface Signer {
  readonly certificate: CertificateInfo;
  readonly privateKey: KeyObject;
}

/**
 * SPIRE backdates certificates by 10 s to absorb clock skew between machines
 * (`NotBeforeCushion` in SPIRE pkg/server/credtemplate/builder.go).
 */
const BACKDATE_MS = 10_000;
const DEFAULT_CA_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * An in-memory SPIFFE CA for the dev agent and tests. It issues X509-SVIDs
 * with SPIRE's profile (SPIRE pkg/server/credtemplate/builder.go) from a
 * self-signed root, or from an intermediate below the root when
 * `intermediate` is set. All times come from the Clock. The signing key leaves the object only through
 * {@link CertificateAuthority.exportState}, for the dev agent's state directory.
 *
 * Rotation is explicit ({@link CertificateAuthority.rotate}); once the
 * signing CA has expired, issuing fails with 'ca.expired'.
 */
export class CertificateAuthority {
  readonly trustDomain: TrustDomain;
  readonly #clock: Clock;
  readonly #keyType: KeyType;
  readonly #caTtlMs: number;
  readonly #intermediate: boolean;
  /** Every root still published, oldest first. */
  #roots: CertificateInfo[] = [];
  #signer!: Signer;
  /** Certificates between the leaf and the root sent with each SVID. */
  #chainTail: Buffer[] = [];
  #bundleCache: X509Bundle | undefined;

  private constructor(opts: CertificateAuthorityOptions) {
    this.trustDomain = opts.trustDomain;
    this.#clock = opts.clock ?? systemClock;
    this.#keyType = opts.keyType ?? 'ec-p256';
    this.#caTtlMs = opts.caTtlMs ?? DEFAULT_CA_TTL_MS;
    this.#intermediate = opts.intermediate ?? false;
    if (!(this.#caTtlMs > BACKDATE_MS)) throw new CaError('ca.bad_ttl', `ca: caTtlMs must exceed ${BACKDATE_MS} ms`);
  }

  /** Creates a CA with a fresh root (and intermediate when asked). */
  static async create(opts: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const ca = new CertificateAuthority(opts);
    await ca.rotate();
    return ca;
  }

  /**
   * Brings back a CA saved with {@link CertificateAuthority.exportState}.
   * `opts` are the options the CA runs with from now on; the state must fit
   * them. Throws CaError 'ca.bad_state' when a certificate does not parse,
   * is not a CA of `opts.trustDomain`, the chain does not link up, the key
   * is not the signing CA's, or its type or the intermediate mode differs
   * from `opts`. An expired CA is accepted: the caller rotates it.
   */
  static fromState(state: CertificateAuthorityState, opts: CertificateAuthorityOptions): CertificateAuthority {
    const ca = new CertificateAuthority(opts);
    const td = ca.trustDomain;
    const bad = (what: string, cause?: unknown): CaError =>
      new CaError('ca.bad_state', `ca: saved state of ${td.name}: ${what}`, cause === undefined ? undefined : { cause });
    const decode = (der: unknown, what: string): CertificateInfo => {
      if (!Buffer.isBuffer(der)) throw bad(`${what} is missing`);
      try {
        return decodeCertificate(der);
      } catch (err) {
        throw bad(`${what} is not a certificate`, err);
      }
    };
    // Only certificates of this trust domain's CA may come back: a file
    // copied from another trust domain would otherwise mint its SVIDs.
    const checkAuthority = (c: CertificateInfo, what: string): void => {
      if (!c.isCa) throw bad(`${what} is not a CA certificate`);
      if (c.uriSans.length !== 1 || c.uriSans[0] !== td.idString()) {
        throw bad(`${what} is for ${c.uriSans.join(', ') || 'no trust domain'}, not ${td.idString()}`);
      }
    };
    if (!Array.isArray(state.rootsDer) || state.rootsDer.length === 0) throw bad('has no root certificate');
    const roots = state.rootsDer.map((der, i) => {
      const root = decode(der, `root ${i}`);
      checkAuthority(root, `root ${i}`);
      if (!root.x509.verify(root.publicKey)) throw bad(`root ${i} is not self-signed`);
      return root;
    });
    let signerCert = roots[roots.length - 1]!;
    let tail: Buffer[] = [];
    if ((state.intermediateDer !== undefined) !== ca.#intermediate) {
      throw bad(ca.#intermediate ? 'has no intermediate CA, but the CA is in intermediate mode' : 'has an intermediate CA, but the CA is not in intermediate mode');
    }
    if (state.intermediateDer !== undefined) {
      const inter = decode(state.intermediateDer, 'the intermediate');
      checkAuthority(inter, 'the intermediate');
      if (!inter.x509.verify(signerCert.publicKey)) throw bad('the intermediate is not signed by the current root');
      signerCert = inter;
      tail = [inter.der];
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: state.signingKeyPkcs8Der, format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw bad('the signing key is not a PKCS#8 private key', err);
    }
    const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
    if (!spki(createPublicKey(key)).equals(spki(signerCert.publicKey))) throw bad('the signing key does not belong to the signing CA certificate');
    const keyType = keyTypeOf(key);
    if (keyType !== ca.#keyType) throw bad(`the CA key is ${keyType ?? 'of an unsupported type'}, but the key type is ${ca.#keyType}`);
    ca.#roots = roots;
    ca.#signer = { certificate: signerCert, privateKey: key };
    ca.#chainTail = tail;
    return ca;
  }

  /**
   * The CA's state for {@link CertificateAuthority.fromState}: the published
   * roots (expired old ones left out), the intermediate if any, and the
   * signing key. The key is in the result: keep it private.
   */
  exportState(): CertificateAuthorityState {
    const now = this.#clock.now();
    const current = this.#roots[this.#roots.length - 1]!;
    const intermediate = this.#chainTail[0];
    return {
      rootsDer: this.#roots.filter((r) => r === current || r.notAfter.getTime() >= now).map((r) => r.der),
      ...(intermediate ? { intermediateDer: intermediate } : {}),
      signingKeyPkcs8Der: this.#signer.privateKey.export({ type: 'pkcs8', format: 'der' }),
    };
  }

  /** When the signing CA expires; from then on issuing fails until {@link CertificateAuthority.rotate}. */
  get signerNotAfter(): Date {
    return this.#signer.certificate.notAfter;
  }

  /**
   * Replaces the signing CA with a new root (and intermediate). The bundle
   * keeps every earlier root until it expires, so SVIDs issued before the
   * rotation still verify, as in a SPIRE CA rotation.
   */
  async rotate(): Promise<void> {
    const now = this.#clock.now();
    const notBefore = new Date(now - BACKDATE_MS);
    const notAfter = new Date(now + this.#caTtlMs);
    const td = this.trustDomain;
    const rootKey = await generateKey(this.#keyType);
    const caSpec = (subject: readonly NameAttribute[]): CertificateSpec => ({
      subject,
      notBefore,
      notAfter,
      uriSans: [td.idString()],
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
    });
    const serialAttr = (): NameAttribute => ({ type: 'serialNumber', value: BigInt('0x' + randomSerial().toString('hex')).toString() });
    const rootSubject = this.#intermediate
      ? [{ type: 'C', value: 'US' }, { type: 'O', value: 'SPIFFE' }, { type: 'CN', value: `${td.name} upstream root` }]
      : [{ type: 'C', value: 'US' }, { type: 'O', value: 'SPIFFE' }, serialAttr()];
    const root = decodeCertificate(buildCertificate(caSpec(rootSubject), rootKey.privateKey));
    let signer: Signer = { certificate: root, privateKey: rootKey.privateKey };
    let tail: Buffer[] = [];
    if (this.#intermediate) {
      const key = await generateKey(this.#keyType);
      const der = buildCertificate(caSpec([{ type: 'C', value: 'US' }, { type: 'O', value: 'SPIFFE' }, serialAttr()]), key.publicKey, signer);
      signer = { certificate: decodeCertificate(der), privateKey: key.privateKey };
      tail = [der];
    }
    this.#roots = [...this.#liveRoots(now), root];
    this.#signer = signer;
    this.#chainTail = tail;
    this.#bundleCache = undefined;
  }

  /** The roots still valid now (the old ones until they expire), as concatenated DER. */
  bundleDer(): Buffer {
    return Buffer.concat(this.#liveRoots(this.#clock.now()).map((r) => r.der));
  }

  /** The roots still valid now as an X509Bundle of this trust domain. */
  bundle(): X509Bundle {
    const live = this.#liveRoots(this.#clock.now());
    const cached = this.#bundleCache;
    if (cached && cached.authorities.length === live.length && cached.authorities.every((a, i) => a === live[i])) return cached;
    return (this.#bundleCache = X509Bundle.fromCertificates(this.trustDomain, live));
  }

  /**
   * Issues an X509-SVID with SPIRE's workload profile (BuildWorkloadX509SVIDTemplate
   * in SPIRE pkg/server/credtemplate/builder.go): subject
   * C=US, O=SPIRE; URI SAN = `id`; DNS SANs; critical keyUsage
   * digitalSignature|keyEncipherment|keyAgreement; EKU serverAuth+clientAuth;
   * cA=false; NotBefore = now − 10 s; NotAfter = now + ttl capped at the
   * signing CA's expiry; SKI/AKI; random 128-bit serial. Throws CaError.
   */
  async issueX509Svid(opts: IssueX509SvidOptions): Promise<IssuedX509Svid> {
    if (!opts.id.trustDomain.equals(this.trustDomain)) {
      throw new CaError('ca.foreign_trust_domain', `ca: cannot issue ${opts.id.toString()}: this CA is for trust domain "${this.trustDomain.name}"`);
    }
    if (opts.id.isRoot()) throw new CaError('ca.bad_id', `ca: cannot issue an SVID for the trust domain ID ${opts.id.toString()}`);
    if (!(opts.ttlMs > 0) || !Number.isFinite(opts.ttlMs)) throw new CaError('ca.bad_ttl', `ca: ttlMs must be a positive number, got ${opts.ttlMs}`);
    const now = this.#clock.now();
    const signer = this.#signer;
    const caNotAfter = signer.certificate.notAfter.getTime();
    if (now >= caNotAfter) throw new CaError('ca.expired', `ca: the signing CA expired at ${signer.certificate.notAfter.toISOString()}; rotate() first`);
    const key = await generateKey(opts.keyType ?? this.#keyType);
    // Certificates carry whole seconds; rounding down keeps the leaf within the CA's lifetime.
    const notAfter = new Date(Math.floor(Math.min(now + opts.ttlMs, caNotAfter) / 1000) * 1000);
    const leaf = buildCertificate(
      {
        subject: [{ type: 'C', value: 'US' }, { type: 'O', value: 'SPIRE' }],
        notBefore: new Date(now - BACKDATE_MS),
        notAfter,
        uriSans: [opts.id.toString()],
        dnsSans: opts.dnsNames ?? [],
        basicConstraints: { ca: false },
        keyUsage: { usages: ['digitalSignature', 'keyEncipherment', 'keyAgreement'] },
        extKeyUsage: [OID.serverAuth, OID.clientAuth],
      },
      key.publicKey,
      signer,
    );
    return {
      chainDer: Buffer.concat([leaf, ...this.#chainTail]),
      keyPkcs8Der: key.privateKey.export({ type: 'pkcs8', format: 'der' }),
      notAfter,
    };
  }

  #liveRoots(now: number): CertificateInfo[] {
    return this.#roots.filter((r) => r.notAfter.getTime() >= now);
  }
}
