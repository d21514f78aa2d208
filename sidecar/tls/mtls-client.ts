import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { PeerCertificate, SecureContext } from 'node:tls';
import { systemClock } from '../core/index.ts';
import type { MtlsConfig } from './mtls-config.ts';
import { CredentialsError } from './credentials-error.ts';
import { peerChainDer, verifyPeerChain, type PeerVerification } from './peer-verification.ts';
import { SecureContextStore, currentBundleSet } from './secure-context-store.ts';

/** Configuration of the client side of SPIFFE mTLS (`authorize`: usually authorizeId of the upstream we meant). */
export interface MtlsClientConfig extends MtlsConfig {
  /** SNI to send. Default: Node's (the DNS host name, nothing for IP literals); never the SPIFFE ID. */
  readonly servername?: string;
  /** Without `credentials`: a store to share with other clients or servers on the same sources; default a new one. */
  readonly store?: SecureContextStore | undefined;
}

/** Connection options for tls.connect / https.request / http2.connect; spread them per connection. */
export interface MtlsClientOptions {
  /** The current SVID and roots; a getter, so each spread reads the latest. */
  readonly secureContext: SecureContext;
  readonly rejectUnauthorized: true;
  /**
   * Replaces the hostname check with SPIFFE verification + the authorizer.
   * Returns PeerVerificationError or PeerNotAuthorized (or the sources' own
   * error when they fail); Node destroys the socket with it.
   */
  readonly checkServerIdentity: (hostname: string, cert: PeerCertificate) => Error | undefined;
  /**
   * Always undefined: Node skips checkServerIdentity on a resumed session
   * (observed: a resumed client sees no peer certificate at all), so a
   * cached session must never be offered; https.Agent would otherwise add one.
   */
  readonly session: undefined;
  readonly ALPNProtocols?: string[];
  readonly servername?: string;
}

/**
 * Options for the client side of SPIFFE mTLS (go-spiffe
 * tlsconfig.MTLSClientConfig in spirit): present our current SVID, verify the
 * server's SVID against the bundle of its own trust domain, then authorize it.
 *
 * Use: `tls.connect({ ...opts, host, port })`, `http2.connect(url, opts)`,
 * `https.request(url, { ...opts })`; for pooled HTTPS use {@link MtlsAgent}.
 * `secureContext` is a getter: spreading the object takes the SVID current
 * at that moment, so build the spread per connection, not once.
 *
 * Why two layers: `rejectUnauthorized` must stay true. Node calls
 * checkServerIdentity only when OpenSSL's own verification (against `ca` =
 * all roots) passed; with it false, an OpenSSL failure would skip our check
 * and connect anyway. So OpenSSL rejects unknown CAs, self-signed and expired
 * certificates (Node's error codes: UNABLE_TO_VERIFY_LEAF_SIGNATURE,
 * DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, INVALID_PURPOSE; see
 * tlsFailureReason), and checkServerIdentity does the SPIFFE part: the
 * peer's own trust-domain bundle, the leaf rules, the injected clock, and
 * the authorizer. It runs when the client's handshake completes, before
 * 'secureConnect'; an Error returned destroys the socket with that error.
 *
 * TLS 1.3: the client's handshake completes before the server has judged
 * our certificate, so a server that refuses us shows up after
 * 'secureConnect', as a reset or a `certificate_required` alert on read.
 */
export function mtlsClientOptions(cfg: MtlsClientConfig): MtlsClientOptions {
  const check = serverIdentityCheck(cfg);
  const checkServerIdentity = (_hostname: string, cert: PeerCertificate): Error | undefined => {
    const result = check(cert);
    return result.ok ? undefined : result.error;
  };
  const secureContext = clientSecureContext(cfg);
  const opts = {
    get secureContext(): SecureContext {
      return secureContext();
    },
    rejectUnauthorized: true as const,
    checkServerIdentity,
    session: undefined,
    ...(cfg.alpn ? { ALPNProtocols: [...cfg.alpn] } : {}),
    ...(cfg.servername !== undefined ? { servername: cfg.servername } : {}),
  };
  return opts;
}

/**
 * Where a client reads the SecureContext for its next connection: the
 * credentials home's (built once per rotation), else a store on the given
 * sources, re-read per connection. Throws what the sources throw.
 */
export function clientSecureContext(cfg: MtlsClientConfig): () => SecureContext {
  const home = cfg.credentials;
  if (home !== undefined) return () => home.secureContext();
  if (cfg.store === undefined && (cfg.svidSource === undefined || cfg.bundleSource === undefined)) {
    throw new CredentialsError('tls.credentials_bad_option', 'tls: an mTLS client needs credentials, a store, or both svidSource and bundleSource');
  }
  const store =
    cfg.store ??
    new SecureContextStore({
      svidSource: cfg.svidSource!,
      bundleSource: cfg.bundleSource!,
      ...(cfg.minVersion ? { minVersion: cfg.minVersion } : {}),
      ...(cfg.maxVersion ? { maxVersion: cfg.maxVersion } : {}),
    });
  return () => store.current();
}

/**
 * The SPIFFE check of a server's certificate as the client sees it: the
 * chain verified against the bundle of the server's own trust domain, the
 * leaf rules with the injected clock, then the authorizer. Returns the
 * verified identity (a value the caller may keep: the server's SPIFFE ID
 * needs no re-parsing from certificate text) or why it was refused. Never
 * throws: a failing source becomes a refusal, because Node calls the check
 * inside its handshake callback, where a throw would be uncaught.
 */
export function serverIdentityCheck(cfg: MtlsClientConfig): (cert: PeerCertificate) => PeerVerification | { readonly ok: false; readonly error: Error } {
  const clock = cfg.clock ?? systemClock;
  const home = cfg.credentials;
  const bundleSource = cfg.bundleSource;
  if (home === undefined && bundleSource === undefined) throw new CredentialsError('tls.credentials_bad_option', 'tls: an mTLS client needs credentials or a bundleSource');
  return (cert) => {
    // The hostname is not part of it on purpose: SPIFFE identifies the
    // server by the ID in its URI SAN, not by DNS names (X509-SVID spec §5).
    try {
      const bundles = home !== undefined ? home.bundles() : currentBundleSet(bundleSource!);
      return verifyPeerChain(peerChainDer(cert), { bundles, authorize: cfg.authorize, clock });
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
    }
  };
}

/**
 * An https.Agent for SPIFFE mTLS to one kind of upstream (one authorizer):
 * keep-alive pooling works as usual, and each new connection presents the
 * SVID current at that moment. Session resumption is off (see
 * {@link MtlsClientOptions.session}).
 *
 * Why a dedicated agent: https.Agent pools sockets by a key built from
 * host, port and some TLS options, which includes neither `secureContext`
 * nor, for agent-level options, the authorizer; a shared agent could hand a
 * socket verified for one upstream identity to a request meant for another.
 */
export class MtlsAgent extends Agent {
  readonly #opts: MtlsClientOptions;

  constructor(cfg: MtlsClientConfig, agentOptions: AgentOptions = {}) {
    const opts = mtlsClientOptions(cfg);
    super({ ...agentOptions, maxCachedSessions: 0, rejectUnauthorized: true, checkServerIdentity: opts.checkServerIdentity });
    this.#opts = opts;
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return super.createConnection({ ...options, ...this.#opts }, callback);
  }
}
