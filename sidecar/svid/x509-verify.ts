import type { X509BundleSource } from '../bundle/index.ts';
import { systemClock, type Clock } from '../core/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import { CertificateCache, type CertificateInfo } from '../x509/index.ts';
import { nameConstraintViolation } from './x509-name-constraints.ts';
import { checkLeaf, checkSigningCert, type RuleFailure } from './x509-svid-rules.ts';
import { PeerVerificationError, type PeerVerificationErrorCode } from './x509-verify-error.ts';

/** Options of {@link verifyX509SvidChain}. */
export interface X509VerifyOptions {
  /** Verify as of this time instead of now (go-spiffe `WithTime`). */
  readonly at?: Date | number;
  /** Where "now" comes from when `at` is not given; default the system clock. */
  readonly clock?: Clock;
  /** Memo for decoding presented certificates; default one shared by all calls in the process. */
  readonly certificateCache?: CertificateCache;
}

/** The authenticated peer: its ID and the path that proved it, leaf to bundle root. */
export interface X509VerifyResult {
  readonly id: SpiffeId;
  readonly verifiedChain: readonly CertificateInfo[];
}

/** Longest chain a peer may present; real SPIFFE chains have one to three certificates. */
const MAX_PRESENTED = 16;
/** Signature checks allowed per call, so a crafted chain of look-alike issuers cannot burn CPU (Go caps at 100). */
const MAX_SIGNATURE_CHECKS = 32;

type Failure = RuleFailure<PeerVerificationErrorCode>;

/** Shared decode memo: a pure function's results, so sharing across app instances is harmless. */
const sharedCache = new CertificateCache();

/**
 * Authenticates a peer from the certificates it presented in TLS (DER, leaf
 * first) and returns its SPIFFE ID. Authorization is a separate step.
 *
 * Order (go-spiffe v2 svid/x509svid/verify.go, X509-SVID.md §4–5): leaf rules
 * (one URI SAN, valid ID, non-root path, not a CA, critical keyUsage with
 * digitalSignature and without keyCertSign/cRLSign); then the bundle of the
 * peer's OWN trust domain (SPIFFE_Workload_API.md §4.6; no bundle means
 * untrusted); then a path from the leaf through the presented intermediates
 * to a root of that bundle, tried by issuer name (AKI match first) and signature; then on that path:
 * every certificate valid at `at` including the root (no leeway), each
 * intermediate a CA with critical keyUsage keyCertSign, pathLenConstraint,
 * no unhandled critical extension, and name constraints. When several paths
 * exist (CA rotation), the first one passing every rule wins; otherwise the
 * first rule failure found is reported, or 'x509svid.unknown_authority'.
 *
 * Stricter than go-spiffe's `x509svid.Verify`, on purpose: it also requires a
 * non-root leaf path and digitalSignature on the leaf (the spec requires them
 * for authentication; go-spiffe checks them only when parsing its own SVID),
 * a critical keyUsage on leaf and intermediates, and keyCertSign on
 * intermediates (go-spiffe v2 svid/x509svid/verify.go hands the chain to Go's
 * crypto/x509 `Certificate.Verify`, which ignores keyUsage bits); a
 * leaf that is itself a bundle certificate is not accepted; URI name
 * constraints follow RFC 5280 exactly (see x509-name-constraints.ts), and
 * unsupported constraint forms fail closed. Like go-spiffe, EKU is not
 * enforced and CRLs/OCSP are not checked.
 *
 * Runs on every handshake: the bundle's roots are already decoded, presented
 * certificates are decoded through a bounded memo (peers resend the same
 * intermediates), and at most {@link MAX_SIGNATURE_CHECKS} signatures are
 * checked per call.
 */
export function verifyX509SvidChain(chain: readonly Uint8Array[], bundles: X509BundleSource, opts: X509VerifyOptions = {}): X509VerifyResult {
  if (chain.length === 0) throw new PeerVerificationError('x509svid.no_certificates', 'x509svid: peer presented no certificates');
  if (chain.length > MAX_PRESENTED) {
    throw new PeerVerificationError('x509svid.malformed', `x509svid: peer presented ${chain.length} certificates; at most ${MAX_PRESENTED} are accepted`);
  }
  const presented = decodeAll(chain, opts.certificateCache ?? sharedCache);
  const leaf = presented[0]!;
  const leafCheck = checkLeaf(leaf);
  if ('failure' in leafCheck) throw toError(leafCheck.failure);
  const id = leafCheck.id;

  const bundle = bundles.getX509BundleForTrustDomain(id.trustDomain);
  if (!bundle) {
    throw new PeerVerificationError('x509svid.no_bundle', `x509svid: no X.509 bundle for trust domain "${id.trustDomain.name}"`, { peerId: id });
  }
  const at = opts.at === undefined ? (opts.clock ?? systemClock).now() : typeof opts.at === 'number' ? opts.at : opts.at.getTime();

  let firstFailure: Failure | undefined;
  const finder = new PathFinder(presented.slice(1), bundle.authorities);
  for (const path of finder.paths(leaf)) {
    const failure = checkPath(path, at);
    if (!failure) return { id, verifiedChain: Object.freeze(path) };
    firstFailure ??= failure;
  }
  if (firstFailure) throw toError(firstFailure, id);
  const why = finder.exhausted ? ' (signature check budget exhausted)' : '';
  throw new PeerVerificationError(
    'x509svid.unknown_authority',
    `x509svid: certificate of ${id.toString()} is not signed by an authority of trust domain "${id.trustDomain.name}"${why}`,
    { peerId: id },
  );
}

function decodeAll(chain: readonly Uint8Array[], cache: CertificateCache): CertificateInfo[] {
  try {
    return chain.map((der, i) => cache.decode(der, i));
  } catch (cause) {
    throw new PeerVerificationError('x509svid.malformed', `x509svid: peer certificate chain is malformed: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Depth-first search for paths leaf → presented intermediates → bundle root.
 * Roots are tried before intermediates, and candidates whose SKI matches the
 * child's AKI before the others; signature results are memoised per call.
 */
class PathFinder {
  readonly #intermediates: readonly CertificateInfo[];
  readonly #roots: readonly CertificateInfo[];
  readonly #signatures = new Map<CertificateInfo, Map<CertificateInfo, boolean>>();
  #checks = 0;
  exhausted = false;

  constructor(intermediates: readonly CertificateInfo[], roots: readonly CertificateInfo[]) {
    // A presented copy of a bundle root is the root itself, not an intermediate.
    this.#intermediates = intermediates.filter((i) => !roots.some((r) => r.der.equals(i.der)));
    this.#roots = roots;
  }

  *paths(leaf: CertificateInfo): Generator<CertificateInfo[]> {
    yield* this.#extend([leaf]);
  }

  *#extend(path: CertificateInfo[]): Generator<CertificateInfo[]> {
    const child = path[path.length - 1]!;
    for (const root of candidates(child, this.#roots)) {
      // A certificate never vouches for itself: a leaf pinned in the bundle is not a path.
      if (path.some((c) => c.der.equals(root.der))) continue;
      if (this.#signedBy(child, root)) yield [...path, root];
    }
    if (path.length > MAX_PRESENTED) return;
    for (const next of candidates(child, this.#intermediates)) {
      if (path.includes(next)) continue;
      if (this.#signedBy(child, next)) yield* this.#extend([...path, next]);
    }
  }

  #signedBy(child: CertificateInfo, issuer: CertificateInfo): boolean {
    let byIssuer = this.#signatures.get(child);
    const known = byIssuer?.get(issuer);
    if (known !== undefined) return known;
    if (this.#checks >= MAX_SIGNATURE_CHECKS) {
      this.exhausted = true;
      return false;
    }
    this.#checks++;
    let ok: boolean;
    try {
      ok = child.x509.verify(issuer.publicKey);
    } catch {
      ok = false;
    }
    if (!byIssuer) this.#signatures.set(child, (byIssuer = new Map()));
    byIssuer.set(issuer, ok);
    return ok;
  }
}

/** Certificates whose subject is the child's issuer (RFC 5280 §6.1.3 (a)(4)), AKI/SKI matches first. */
function candidates(child: CertificateInfo, pool: readonly CertificateInfo[]): CertificateInfo[] {
  const byName = pool.filter((c) => c.subjectDer.equals(child.issuerDer));
  const aki = child.authorityKeyId;
  if (!aki) return byName;
  const keyMatch = (c: CertificateInfo): boolean => c.subjectKeyId !== undefined && c.subjectKeyId.equals(aki);
  return [...byName.filter(keyMatch), ...byName.filter((c) => !keyMatch(c))];
}

/** Applies the path rules to one signature-valid path [leaf, ...intermediates, root]. */
function checkPath(path: readonly CertificateInfo[], at: number): Failure | undefined {
  const last = path.length - 1;
  const what = (i: number): string => (i === 0 ? 'leaf certificate' : i === last ? 'bundle authority' : `intermediate ${i}`);
  for (let i = 0; i <= last; i++) {
    const c = path[i]!;
    if (at < c.notBefore.getTime()) {
      return { code: 'x509svid.not_yet_valid', message: `x509svid: ${what(i)} is not valid before ${c.notBefore.toISOString()}` };
    }
    if (at > c.notAfter.getTime()) {
      return { code: 'x509svid.expired', message: `x509svid: ${what(i)} expired at ${c.notAfter.toISOString()}` };
    }
  }
  // The bundle authority is a trust anchor: its own basicConstraints and keyUsage
  // are not required (RFC 5280 §6.1.1 (d); Go does the same), but its pathLen,
  // critical extensions and name constraints are honoured.
  for (let i = 1; i < last; i++) {
    const f = checkSigningCert(path[i]!, what(i), {
      notCa: 'x509svid.intermediate_not_ca',
      noKeyCertSign: 'x509svid.intermediate_no_key_cert_sign',
    });
    if (f) return f;
  }
  for (let i = 1; i <= last; i++) {
    const limit = path[i]!.pathLen;
    // Intermediates between this CA and the leaf (RFC 5280 §4.2.1.9).
    if (limit !== undefined && i - 1 > limit) {
      return { code: 'x509svid.path_len_exceeded', message: `x509svid: ${what(i)} allows ${limit} intermediate(s) below it, found ${i - 1}` };
    }
  }
  for (let i = 0; i <= last; i++) {
    const oids = path[i]!.unhandledCriticalExtensions;
    if (oids.length > 0) {
      return { code: 'x509svid.unhandled_critical_extension', message: `x509svid: ${what(i)} has unhandled critical extension(s) ${oids.join(', ')}` };
    }
  }
  for (let i = 1; i <= last; i++) {
    const nc = path[i]!.nameConstraints;
    if (!nc) continue;
    for (let j = 0; j < i; j++) {
      const below = path[j]!;
      // Self-issued intermediates are exempt (RFC 5280 §6.1.3 (b)); the leaf never is.
      if (j > 0 && below.subjectDer.equals(below.issuerDer)) continue;
      const v = nameConstraintViolation(nc, below);
      if (v) return { code: 'x509svid.name_constraint_violation', message: `x509svid: ${what(j)} violates the name constraints of ${what(i)}: ${v}` };
    }
  }
  return undefined;
}

function toError(f: Failure, peerId?: SpiffeId): PeerVerificationError {
  return new PeerVerificationError(f.code, f.message, {
    ...(f.cause === undefined ? {} : { cause: f.cause }),
    ...(peerId === undefined ? {} : { peerId }),
  });
}
