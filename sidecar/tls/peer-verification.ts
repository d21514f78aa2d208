import { createHash } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import type { Clock } from '../core/index.ts';
import type { X509BundleSet } from '../bundle/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import { PeerVerificationError, verifyX509SvidChain } from '../svid/index.ts';
import type { CertificateInfo } from '../x509/index.ts';
import type { Authorizer } from './authorizer.ts';
import { canonicalReason } from './failure-reason.ts';
import { PeerNotAuthorized } from './peer-not-authorized.ts';

/**
 * Who is on the other end of a verified mTLS connection. Computed once per
 * connection; the data plane builds caller-identity headers (XFCC `Hash=`,
 * `URI=`) from it.
 */
export interface PeerIdentity {
  readonly id: SpiffeId;
  /** DER of the peer's leaf certificate. */
  readonly leafDer: Buffer;
  /** Lower-case hex SHA-256 of {@link leafDer}. */
  readonly leafSha256Hex: string;
}

/** Why a peer was refused; `reason` is the short label for metrics, `error` the typed error. */
export interface PeerVerificationFailure {
  readonly ok: false;
  readonly reason: string;
  readonly error: PeerVerificationError | PeerNotAuthorized;
  /** The ID the peer presented, when its leaf carried a parseable one. */
  readonly presentedId?: string;
}

/** Outcome of verifying a peer: its identity, or why it was refused. */
export type PeerVerification = { readonly ok: true; readonly identity: PeerIdentity } | PeerVerificationFailure;

/** What verification needs: bundles for the peer's own trust domain, the authorizer and the time. */
export interface PeerVerifierOptions {
  readonly bundles: X509BundleSet;
  readonly authorize: Authorizer;
  readonly clock: Clock;
}

/**
 * The peer's chain as DER, leaf first, from Node's detailed peer certificate.
 *
 * Why this shape: Node offers no "chain as presented" API. getPeerCertificate(true)
 * starts at the peer's leaf and follows issuers through the certificates the
 * peer sent (certificates that link to nothing are left out), then appends
 * the issuer it finds in the socket's own `ca` store (observed on Node 24: a
 * client whose server sent [leaf, intermediate] gets [leaf, intermediate, our
 * root]). A self-issued root points to itself. So on a client the list may
 * end with one of OUR anchors that the peer never sent; see
 * {@link verifyPeerChain} for why that is harmless. A server set up by
 * mtlsServer().attach() has an empty `ca` store, so there the list holds only
 * what the peer sent (docs/decisions/009-peer-chain.md).
 */
export function peerChainDer(cert: PeerCertificate | DetailedPeerCertificate | undefined): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  let c: PeerCertificate | DetailedPeerCertificate | undefined = cert;
  // The chain is at most a handful of certificates; the cap stops a cycle
  // that the fingerprint check would miss.
  while (c && c.raw && out.length < 16) {
    const fp = c.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    out.push(c.raw);
    c = 'issuerCertificate' in c ? c.issuerCertificate : undefined;
  }
  return out;
}

/**
 * Verifies a peer chain the SPIFFE way and runs the authorizer.
 *
 * Certificates after the leaf that are byte-identical to one of our trust
 * anchors are dropped first: Node may have spliced them in (see
 * {@link peerChainDer}), and a trust anchor adds nothing as an intermediate.
 * Anything else stays an untrusted intermediate, and the chain must lead to
 * the bundle of the trust domain in the leaf's own ID, so an anchor of
 * another trust domain can never vouch for it (Workload API spec §4.6).
 */
export function verifyPeerChain(chainDer: readonly Buffer[], opts: PeerVerifierOptions): PeerVerification {
  const chain = chainDer.length <= 1 ? [...chainDer] : [chainDer[0]!, ...chainDer.slice(1).filter((der) => !isAnchor(der, opts.bundles))];
  let id: SpiffeId;
  let verifiedChain: readonly CertificateInfo[];
  try {
    ({ id, verifiedChain } = verifyX509SvidChain(chain, opts.bundles, { clock: opts.clock }));
  } catch (err) {
    if (err instanceof PeerVerificationError) return { ok: false, reason: canonicalReason(err.reason), error: err };
    throw err;
  }
  const decision = opts.authorize(id, verifiedChain);
  if (!decision.ok) {
    const error = new PeerNotAuthorized(id.toString(), opts.authorize.description, decision.reason);
    return { ok: false, reason: error.reason, error, presentedId: id.toString() };
  }
  const leafDer = chain[0]!;
  return { ok: true, identity: Object.freeze({ id, leafDer, leafSha256Hex: createHash('sha256').update(leafDer).digest('hex') }) };
}

function isAnchor(der: Buffer, bundles: X509BundleSet): boolean {
  for (const b of bundles) for (const a of b.authorities) if (a.der.equals(der)) return true;
  return false;
}

const kPeerIdentity = Symbol('spiffe-sidecar.peerIdentity');

/**
 * Verifies the peer of a connected TLS socket and, on success, remembers the
 * identity on the socket for {@link peerIdentity}.
 *
 * Must run before anything on the socket calls getPeerX509Certificate():
 * on Node 24.21 (nodejs/node#65579) that call removes a certificate from
 * OpenSSL's record of the peer's chain on the server side, after which
 * getPeerCertificate(true) no longer shows the intermediates. Node's own
 * server makes that call only when OpenSSL verified the client, which an
 * attached server never lets happen (docs/decisions/009-peer-chain.md).
 */
export function verifyPeerSocket(socket: TLSSocket, opts: PeerVerifierOptions): PeerVerification {
  const result = verifyPeerChain(peerChainDer(socket.getPeerCertificate(true)), opts);
  if (result.ok) rememberPeerIdentity(socket, result.identity);
  return result;
}

/**
 * Records the identity a verifier returned for `socket`, for
 * {@link peerIdentity}: the client side calls it with what its
 * checkServerIdentity verified, so both ends read the peer the same way.
 * Once per socket; a second call is ignored (the first verdict stands).
 */
export function rememberPeerIdentity(socket: object, identity: PeerIdentity): void {
  if (Object.hasOwn(socket, kPeerIdentity)) return;
  // A symbol property rather than a WeakMap: http2 hands out a Proxy of the
  // session socket (`stream.session.socket`, `req.socket`) whose property
  // reads reach the real socket, while a WeakMap lookup by the proxy misses.
  Object.defineProperty(socket, kPeerIdentity, { value: identity, enumerable: false });
}

/**
 * The identity recorded for a socket by server-side verification (or
 * {@link verifyPeerSocket}); undefined for a socket that was never verified.
 * Accepts http2's socket proxies.
 */
export function peerIdentity(socket: object): PeerIdentity | undefined {
  return (socket as { [kPeerIdentity]?: PeerIdentity })[kPeerIdentity];
}
