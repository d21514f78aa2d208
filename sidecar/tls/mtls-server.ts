import { createServer, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Socket } from 'node:net';
import { describeError, silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import type { Authorizer } from './authorizer.ts';
import type { MtlsConfig } from './mtls-config.ts';
import { reasonForOpensslCode } from './failure-reason.ts';
import { PeerHandshakeRejected } from './peer-handshake-rejected.ts';
import { verifyPeerSocket, type PeerVerification } from './peer-verification.ts';
import { ownCredentials, type Credentials } from './credentials.ts';
import { currentBundleSet, type SecureContextSnapshot, type SecureContextStore, type X509BundleSetProvider } from './secure-context-store.ts';

/** Configuration shared by the mTLS server helpers (`alpn` e.g. ['h2', 'http/1.1']). */
export interface MtlsServerConfig extends MtlsConfig {
  readonly logger?: Logger;
}

/** Options for tls.createServer / https.createServer / http2.createSecureServer. */
export type MtlsServerOptions = TlsOptions & { readonly requestCert: true; readonly rejectUnauthorized: true };

/** What the server emits as 'peerRejected' each time it refuses a client's identity. */
export interface PeerRejectedEvent {
  /** Short label for metrics: 'no_certificate', 'expired', 'unknown_authority', 'not_authorized', ... */
  readonly reason: string;
  /**
   * 'verification': the SPIFFE check (a missing certificate included);
   * 'authorization': the authorizer; 'handshake': OpenSSL/Node refused the
   * certificate, which an attached server only sees if its `requestCert` or
   * `rejectUnauthorized` were changed after attach().
   */
  readonly stage: 'handshake' | 'verification' | 'authorization';
  readonly error: Error;
  /** The client's SPIFFE ID when it verified but was not authorized. */
  readonly presentedId?: string;
  readonly remoteAddress?: string;
}

/** The typed 'peerRejected' event that {@link MtlsServer.attach} adds to a server. */
export interface MtlsServerEvents {
  on(event: 'peerRejected', listener: (ev: PeerRejectedEvent) => void): this;
  once(event: 'peerRejected', listener: (ev: PeerRejectedEvent) => void): this;
  off(event: 'peerRejected', listener: (ev: PeerRejectedEvent) => void): this;
}

const attached = new WeakSet<Server>();

/**
 * The server side of SPIFFE mTLS (go-spiffe tlsconfig.MTLSServerConfig in
 * spirit): the TLS options, per-connection verification, and
 * {@link MtlsServer.attach}, which is what enforces SPIFFE authentication
 * and authorization. The constructor throws what the SVID source throws
 * when it has no SVID yet (create the X509Source first).
 *
 * What each layer does once attached (observed on Node 24 / OpenSSL 3; see
 * docs/decisions/009-peer-chain.md):
 * - OpenSSL requests a client certificate and checks that the client holds
 *   its key (CertificateVerify), but trusts no root: the server's `ca` store
 *   is empty and `rejectUnauthorized` is off, so its chain check always
 *   fails and Node passes the socket on unauthorized. That keeps the chain
 *   the client sent readable: on Node 24.21 a chain OpenSSL accepted loses
 *   its intermediates before 'secureConnection' (nodejs/node#65579), which
 *   refused every SVID issued through an intermediate CA.
 * - The SPIFFE check in JS is the only authority: the chain the client sent
 *   must lead to the bundle of the trust domain in its own ID (Workload API
 *   spec §4.6; a union of roots would let trust domain A vouch for an ID in
 *   B), the X509-SVID leaf rules hold, the authorizer allows it, all with
 *   the injected Clock. A client without a certificate completes the
 *   handshake and is refused here as 'no_certificate' (RFC 8446 §4.4.2.4
 *   lets the server either abort or continue, then decide).
 * - TLS 1.3: the client finishes its handshake (and may send data) one
 *   flight before the server has seen its certificate; the server's
 *   'secureConnection' fires only after the client's Certificate and
 *   Finished arrived, so the peer chain is available there. A rejected
 *   client sees 'secureConnect' and then a reset.
 * The unattached {@link MtlsServer.options} keep `ca` = every root and
 * `rejectUnauthorized`, so a server someone forgets to attach still
 * refuses clients no trusted root issued.
 */
export class MtlsServer {
  /**
   * Options for creating the server. On their own they only make OpenSSL
   * check client certificates against the union of all roots; pass the
   * server to {@link attach}, which moves the whole check to the SPIFFE
   * verifier and keeps the credentials current.
   */
  readonly options: MtlsServerOptions;
  /** The credentials home the server reads (the given one, or its own). */
  readonly credentials: Credentials;
  /** The secure-context store of {@link credentials}. */
  readonly store: SecureContextStore;
  /** True when the home is this server's own, re-read from its sources on demand. */
  readonly #polled: boolean;
  readonly #bundleSource: X509BundleSetProvider | undefined;
  readonly #authorize: Authorizer;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(cfg: MtlsServerConfig) {
    const { credentials, polled } = ownCredentials(cfg.credentials, cfg, 'mtlsServer()');
    this.credentials = credentials;
    this.store = credentials.store;
    this.#polled = polled;
    this.#bundleSource = cfg.bundleSource;
    this.#authorize = cfg.authorize;
    this.#clock = cfg.clock ?? systemClock;
    this.#logger = (cfg.logger ?? silentLogger).child({ component: 'mtls-server' });
    if (polled) credentials.update();
    this.options = {
      ...credentials.snapshot().options,
      requestCert: true,
      rejectUnauthorized: true,
      ...(cfg.alpn ? { ALPNProtocols: [...cfg.alpn] } : {}),
    };
    // mtlsServer() used to return plain functions; callers may still take them off the object.
    this.verifyPeer = this.verifyPeer.bind(this);
    this.attach = this.attach.bind(this);
  }

  /** SPIFFE verification + authorizer for a connected socket; records the identity for `peerIdentity()`. */
  verifyPeer(socket: TLSSocket): PeerVerification {
    // Without a home the bundle source is read per check, as before one existed.
    const bundles = this.#polled ? currentBundleSet(this.#bundleSource!) : this.credentials.bundles();
    return verifyPeerSocket(socket, { bundles, authorize: this.#authorize, clock: this.#clock });
  }

  /**
   * Wires a server created from {@link options}: new connections get the
   * current SVID, every client certificate chain is verified as an
   * X509-SVID (intermediates included) before anyone else sees the socket,
   * and refusals are emitted as 'peerRejected'. A verified socket has
   * `authorized` true.
   */
  attach<S extends Server>(server: S): S & MtlsServerEvents {
    if (attached.has(server)) throw new TypeError('tls: mtlsServer().attach() called twice on the same server');
    attached.add(server);
    new AttachedServer(server, this, this.#polled, this.#logger).wire();
    return server as S & MtlsServerEvents;
  }
}

/** Builds the server side of SPIFFE mTLS; see {@link MtlsServer}. */
export function mtlsServer(cfg: MtlsServerConfig): MtlsServer {
  return new MtlsServer(cfg);
}

/**
 * One server wired by {@link MtlsServer.attach}: the secure context it
 * installed, its subscription to the credentials home, and the filters on
 * its 'connection' and 'secureConnection' events.
 */
class AttachedServer<S extends Server> {
  readonly #server: S;
  readonly #owner: MtlsServer;
  readonly #polled: boolean;
  readonly #logger: Logger;
  /** The two properties Node reads for every new connection. */
  readonly #settings: { requestCert: boolean; rejectUnauthorized: boolean };
  #installed: SecureContextSnapshot | undefined;

  constructor(server: S, owner: MtlsServer, polled: boolean, logger: Logger) {
    this.#server = server;
    this.#owner = owner;
    this.#polled = polled;
    this.#logger = logger;
    this.#settings = server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
  }

  /** Takes the verification over, installs the current credentials and follows their changes, filters events. */
  wire(): void {
    // From here on our verifier decides alone (see MtlsServer above).
    this.#settings.requestCert = true;
    this.#settings.rejectUnauthorized = false;
    this.#followCredentials();
    this.#filterEmit();
    this.#server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => this.#onTlsClientError(err, socket));
  }

  #followCredentials(): void {
    const credentials = this.#owner.credentials;
    const unsubscribe = credentials.onCredentialsChange(() => this.#onCredentialsChange());
    this.#server.once('close', unsubscribe);
    if (credentials.available) this.#install(credentials.snapshot());
  }

  #install(snap: SecureContextSnapshot): void {
    // ca: [] is an empty store, not Node's default roots (those come only
    // when `ca` is absent), and it sends no CA names in CertificateRequest.
    this.#server.setSecureContext({ ...this.#owner.options, ...snap.options, ca: [] });
    this.#installed = snap;
  }

  // Rotation: Node builds each accepted connection's TLS socket from the
  // server's default context at that moment (SNICallback only runs when a
  // client sends SNI; ours do not, IP literals never do). The home's
  // change event swaps it, so a rotation reaches the next accept and
  // handshakes already under way keep the context they started with.
  #onCredentialsChange(): void {
    const credentials = this.#owner.credentials;
    if (!credentials.available) return;
    const snap = credentials.snapshot();
    if (snap === this.#installed) return;
    this.#install(snap);
    this.#logger.info({ generation: snap.generation, spiffe_id: snap.svid.id.toString() }, 'server credentials updated');
  }

  // Why wrap emit instead of adding listeners: http, https and http2 start
  // reading on their own 'secureConnection' (or 'connection') listeners,
  // registered when the server was constructed, and every listener of one
  // emit runs even after an earlier one destroyed the socket. Filtering the
  // emit means a refused client never reaches the HTTP parser, an http2
  // session or the application, and no byte it sent is read.
  #filterEmit(): void {
    const server = this.#server;
    const emit = server.emit;
    const admits = (event: string | symbol, arg: unknown): boolean => this.#admits(event, arg);
    server.emit = function (this: S, event: string | symbol, ...args: unknown[]): boolean {
      if (!admits(event, args[0])) return false;
      return Reflect.apply(emit, this, [event, ...args]) as boolean;
    } as S['emit'];
  }

  /** False when the event's socket was refused (and destroyed): the emit then reaches no listener. */
  #admits(event: string | symbol, arg: unknown): boolean {
    if (event === 'connection') return this.#onConnection(arg as Socket);
    if (event === 'secureConnection') return this.#onSecureConnection(arg as TLSSocket);
    return true;
  }

  #onConnection(raw: Socket): boolean {
    const credentials = this.#owner.credentials;
    // Without a home of the process's, this server re-reads its sources per connection (two identity checks).
    if (this.#polled) credentials.update();
    if (credentials.available) return true;
    // No usable SVID (withdrawn or not yet fetched): refuse new
    // connections rather than keep serving an identity the agent took away.
    this.#logger.warn({ err: describeError(problemOf(credentials)) }, 'no server credentials; closing new connection');
    raw.destroy();
    return false;
  }

  #onSecureConnection(socket: TLSSocket): boolean {
    let result: PeerVerification;
    try {
      result = this.#owner.verifyPeer(socket);
    } catch (err) {
      // The sources failed (e.g. closed): fail closed, never let the socket through.
      this.#reject(socket, { reason: 'verification_error', stage: 'verification', error: err instanceof Error ? err : new Error(String(err)) });
      socket.destroy();
      return false;
    }
    if (result.ok) {
      // Node left these at OpenSSL's (always failing) verdict; the socket is authorized by the SPIFFE check.
      socket.authorized = true;
      (socket as { authorizationError: unknown }).authorizationError = null;
      return true;
    }
    this.#reject(socket, {
      reason: result.reason,
      stage: result.error.code === 'tls.peer_not_authorized' ? 'authorization' : 'verification',
      error: result.error,
      ...(result.presentedId ? { presentedId: result.presentedId } : {}),
    });
    socket.destroy();
    return false;
  }

  #onTlsClientError(err: Error & { code?: string }, socket: TLSSocket): void {
    // With rejectUnauthorized off OpenSSL refuses no certificate, so this
    // only fires if the server's settings were changed after attach():
    // Node then reports a client certificate that failed OpenSSL's check
    // only through socket.authorizationError (the error is a plain reset).
    const code = typeof socket.authorizationError === 'string' ? socket.authorizationError : socket.authorizationError?.message;
    if (code && this.#settings.rejectUnauthorized) {
      this.#reject(socket, { reason: reasonForOpensslCode(code), stage: 'handshake', error: new PeerHandshakeRejected(reasonForOpensslCode(code), code, { cause: err }) });
    } else if (err.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
      this.#reject(socket, { reason: 'no_certificate', stage: 'handshake', error: new PeerHandshakeRejected('no_certificate', err.code, { cause: err }) });
    }
    // Other handshake errors (plaintext, resets, timeouts) are not about the
    // peer's identity; the owner can count them on 'tlsClientError' itself.
    // Node stops destroying a failed handshake's socket once anyone listens
    // for 'tlsClientError', so we must: otherwise a client that connects and
    // stays silent holds a socket past handshakeTimeout, forever.
    socket.destroy();
  }

  #reject(socket: TLSSocket | undefined, ev: Omit<PeerRejectedEvent, 'remoteAddress'>): void {
    const remoteAddress = socket?.remoteAddress;
    this.#logger.debug({ reason: ev.reason, stage: ev.stage, ...(ev.presentedId ? { peer_id: ev.presentedId } : {}), remote: remoteAddress }, 'peer rejected');
    this.#server.emit('peerRejected', { ...ev, ...(remoteAddress ? { remoteAddress } : {}) } satisfies PeerRejectedEvent);
  }
}

/** Why `credentials` has no snapshot, for the log. */
function problemOf(credentials: Credentials): unknown {
  try {
    credentials.snapshot();
    return undefined;
  } catch (err) {
    return err;
  }
}

/**
 * A plain TLS server with SPIFFE mTLS: `tls.createServer(mtlsServer(cfg).options)`
 * attached. `listener` receives only verified and authorized sockets; read
 * the peer with `peerIdentity(socket)`.
 */
export function createMtlsServer(cfg: MtlsServerConfig, listener?: (socket: TLSSocket) => void): Server & MtlsServerEvents {
  const m = mtlsServer(cfg);
  const server = m.attach(createServer(m.options));
  if (listener) server.on('secureConnection', listener);
  return server;
}
