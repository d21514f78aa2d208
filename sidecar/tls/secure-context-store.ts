import { createSecureContext, type SecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import type { X509BundleSet } from '../bundle/index.ts';
import type { X509Svid, X509SvidSource } from '../svid/index.ts';

/**
 * Where the TLS helpers read the current bundle set: an object with
 * `bundles()` (the workload X509Source) or a function returning the set.
 * The set must be replaced, not mutated, when bundles change: the store
 * notices changes by object identity.
 */
export type X509BundleSetProvider = { bundles(): X509BundleSet } | (() => X509BundleSet);

/** Reads the current set from either form of {@link X509BundleSetProvider}. */
export function currentBundleSet(p: X509BundleSetProvider): X509BundleSet {
  return typeof p === 'function' ? p() : p.bundles();
}

/** Options of {@link SecureContextStore}. */
export interface SecureContextStoreOptions {
  readonly svidSource: X509SvidSource;
  readonly bundleSource: X509BundleSetProvider;
  /** Lowest TLS version offered or accepted; default and floor 'TLSv1.2' (as go-spiffe's tlsconfig). */
  readonly minVersion?: SecureVersion;
  /** Highest TLS version; default Node's ('TLSv1.3'). */
  readonly maxVersion?: SecureVersion;
}

/** One consistent view of our credentials: the SVID and bundles it was built from, as TLS options. */
export interface SecureContextSnapshot {
  /** Increases by one each time the SVID or the bundle set changed. */
  readonly generation: number;
  readonly svid: X509Svid;
  readonly bundles: X509BundleSet;
  /** cert chain, key and `ca` as PEM, for `tls.createSecureContext` or `server.setSecureContext`. */
  readonly options: Readonly<SecureContextOptions>;
}

/**
 * Holds the `tls.SecureContext` for the current SVID and bundle set and
 * rebuilds it lazily, only when the SVID object or the bundle-set object
 * changed. The check is two identity comparisons, cheap enough for every
 * handshake; building a context costs milliseconds (key and certificate
 * parsing in OpenSSL), so it must never happen per connection.
 *
 * Handshakes started after a rotation get the new SVID; established
 * connections keep the context they were created with.
 */
export class SecureContextStore {
  readonly #svidSource: X509SvidSource;
  readonly #bundleSource: X509BundleSetProvider;
  readonly #minVersion: SecureVersion;
  readonly #maxVersion: SecureVersion | undefined;
  #snapshot: SecureContextSnapshot | undefined;
  #context: SecureContext | undefined;

  constructor(opts: SecureContextStoreOptions) {
    this.#svidSource = opts.svidSource;
    this.#bundleSource = opts.bundleSource;
    // TLS 1.0/1.1 are deprecated (RFC 8996); SPIFFE's tlsconfig floor is 1.2.
    this.#minVersion = opts.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2';
    this.#maxVersion = opts.maxVersion;
  }

  /**
   * The current snapshot; rebuilt when the source hands out a different SVID
   * or bundle-set object. Throws what the sources throw (e.g. no SVID yet).
   */
  snapshot(): SecureContextSnapshot {
    const svid = this.#svidSource.getX509Svid();
    const bundles = currentBundleSet(this.#bundleSource);
    const prev = this.#snapshot;
    if (prev && prev.svid === svid && prev.bundles === bundles) return prev;
    const next: SecureContextSnapshot = Object.freeze({
      generation: (prev?.generation ?? 0) + 1,
      svid,
      bundles,
      options: Object.freeze(this.#optionsFor(svid, bundles)),
    });
    this.#snapshot = next;
    this.#context = undefined;
    return next;
  }

  /** The SecureContext of the current snapshot, created on first use after a change. */
  current(): SecureContext {
    const snap = this.snapshot();
    this.#context ??= createSecureContext(snap.options);
    return this.#context;
  }

  #optionsFor(svid: X509Svid, bundles: X509BundleSet): SecureContextOptions {
    // `ca` is the union of every trust domain's roots. OpenSSL cannot bind a
    // peer to its own trust domain's bundle (Workload API spec §4.6), so this
    // only pre-filters certificates nobody we trust issued; the per-trust-
    // domain SPIFFE check in peer-verification.ts stays authoritative.
    const seen = new Set<string>();
    const ca: string[] = [];
    for (const bundle of bundles) {
      for (const a of bundle.authorities) {
        const key = a.der.toString('base64');
        if (seen.has(key)) continue;
        seen.add(key);
        ca.push(a.x509.toString());
      }
    }
    return {
      cert: svid.certChainPem(),
      key: svid.privateKeyPem(),
      // An empty list (no bundles yet) must stay an empty list: `ca`
      // undefined would make Node trust the public web roots instead.
      ca,
      // A SPIFFE bundle is a set of trust anchors used as given, whether
      // self-signed or not (as go-spiffe's x509svid.Verify); without this
      // OpenSSL would insist on a self-signed root at the top.
      allowPartialTrustChain: true,
      minVersion: this.#minVersion,
      ...(this.#maxVersion ? { maxVersion: this.#maxVersion } : {}),
    };
  }
}
