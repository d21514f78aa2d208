import net, { type LookupFunction, type Socket } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import { describeError, formatAddress, type Address, type Clock } from '../core/index.ts';
import type { IdMatcher } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import {
  Credentials,
  authorizeMatcher,
  rememberPeerIdentity,
  serverIdentityCheck,
  tlsFailureReason,
  type PeerIdentity,
  type SecureContextStore,
  type X509BundleSetProvider,
} from '../tls/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import { ForwardError } from './forward-error.ts';

/**
 * Called once per dial: a connected (and, for mTLS, verified) socket, or why
 * there is none. `presentedId` is the server's verified SPIFFE ID as text,
 * taken from the verifier's result ('' for plain TCP); the whole identity is
 * on the socket for `peerIdentity(socket)`.
 */
export type DialCallback = (err: Error | null, socket?: Socket, presentedId?: string) => void;

/**
 * Opens connections to one upstream. Pools call it for every new
 * connection; the dialer presents the credentials current at that moment.
 */
export interface Dialer {
  /** `host:port` of the upstream, for error bodies and logs. */
  readonly target: string;
  /**
   * Calls `listener` after each change of our credentials (rotation, new
   * bundles, withdrawal), so a pool can retire connections made before it:
   * pools subscribe once and never poll (docs/decisions/013-credentials-home.md).
   * Never fires for a dialer that presents no credentials (plain TCP).
   */
  onCredentialsChange(listener: () => void): void;
  /** Connects; `presentedId` is the server's verified SPIFFE ID ('' for plain TCP). */
  dial(cb: DialCallback): void;
}

const CONNECT_SYSCALL_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

function noop(): void {}

/**
 * Waits for `ready` on a connecting socket, then hands it over exactly once;
 * on error or timeout destroys it and reports a ForwardError (TCP level) or
 * the TLS error as it is (the error mapping knows those).
 */
function settle(
  socket: Socket,
  ready: 'connect' | 'secureConnect',
  timeoutMs: number,
  target: string,
  cb: DialCallback,
  afterReady: () => Error | undefined,
  presented: () => string,
): void {
  let done = false;
  const finish = (err: Error | null): void => {
    if (done) return;
    done = true;
    socket.setTimeout(0);
    socket.removeListener('timeout', onTimeout);
    socket.removeListener('error', onError);
    socket.removeListener(ready, onReady);
    if (err) {
      socket.on('error', noop);
      socket.destroy();
      cb(err);
    } else {
      cb(null, socket, presented());
    }
  };
  const onError = (err: Error & { syscall?: string; code?: string }): void => {
    if (err.syscall === 'connect' || CONNECT_SYSCALL_CODES.has(err.code ?? '')) {
      finish(new ForwardError('forward.connect_failed', `upstream connect error: ${err.code ?? describeError(err)} ${target}`, { cause: err }));
    } else {
      finish(err);
    }
  };
  const onTimeout = (): void => {
    finish(new ForwardError('forward.connect_timeout', `upstream connect error: no connection after ${timeoutMs}ms to ${target}`));
  };
  const onReady = (): void => finish(afterReady() ?? null);
  socket.setTimeout(timeoutMs, onTimeout);
  socket.on('error', onError);
  socket.once(ready, onReady);
}

/** Plain TCP to the local app (inbound's last hop). */
export class TcpDialer implements Dialer {
  readonly target: string;
  readonly #address: Address;
  readonly #timeoutMs: number;

  constructor(address: Address, connectTimeoutMs: number) {
    this.#address = address;
    this.#timeoutMs = connectTimeoutMs;
    this.target = formatAddress(address);
  }


  /** Plain TCP presents no credentials: the listener never fires. */
  onCredentialsChange(_listener: () => void): void {}

  dial(cb: DialCallback): void {
    const socket = net.connect({ host: this.#address.host, port: this.#address.port, noDelay: true });
    settle(socket, 'connect', this.#timeoutMs, this.target, cb, () => undefined, () => '');
  }
}

/** Options of {@link MtlsDialer}. */
export interface MtlsDialerOptions {
  readonly address: Address;
  /** Which server IDs are acceptable; anything else fails the dial with PeerNotAuthorized. */
  readonly server: IdMatcher;
  /**
   * The process's credentials home (one per sidecar): the dialer presents
   * its published SVID, verifies against its bundles and relays its change
   * event. Without it, `svidSource`, `bundleSource` and `store` are used:
   * re-read on every dial and whenever a source that offers an `update`
   * event (X509Source) fires it, so pools still hear of a rotation.
   */
  readonly credentials?: Credentials | undefined;
  readonly svidSource?: X509SvidSource | undefined;
  readonly bundleSource?: X509BundleSetProvider | undefined;
  /** Without `credentials`: shared by every upstream of a proxy, so a rotation rebuilds the context once. */
  readonly store?: SecureContextStore | undefined;
  /**
   * The one ALPN protocol offered (none for raw TCP): 'h2', 'http/1.1', or the
   * opaque-TCP signal of transparent mode (docs/decisions/014). With 'h2' a
   * server that does not pick it is refused.
   */
  readonly alpn?: string | undefined;
  readonly connectTimeoutMs: number;
  readonly metrics: ProxyMetrics;
  readonly clock?: Clock | undefined;
  /**
   * Resolves `address.host` when it is a name (default dns.lookup). The
   * outbound proxy's transparent mode passes one that refuses loopback and
   * other addresses no peer sidecar has; its errors fail the dial as they are.
   */
  readonly lookup?: LookupFunction | undefined;
}

/** Homes made for dialers given a store but no home: one per store, so they share one generation. */
const homesByStore = new WeakMap<SecureContextStore, Credentials>();

/** A source that announces its changes, as X509Source does with its 'update' event. */
interface AnnouncingSource {
  on(event: 'update', fn: () => void): unknown;
  off(event: 'update', fn: () => void): unknown;
}

function announces(o: object): o is AnnouncingSource {
  const c = o as Partial<AnnouncingSource>;
  return typeof c.on === 'function' && typeof c.off === 'function';
}

/** Removes a private home's source listeners once the home is garbage (the sources outlive it). */
const sourceWatches = new FinalizationRegistry<() => void>((stop) => stop());

/**
 * Republishes a private home whenever one of its sources announces a
 * change, so its dialers' pools retire connections at the rotation rather
 * than at their next dial. The source holds the home only weakly.
 */
function watchSources(home: Credentials, sources: readonly object[]): void {
  const ref = new WeakRef(home);
  const refresh = (): void => {
    ref.deref()?.update();
  };
  const watched: AnnouncingSource[] = [];
  for (const src of sources) {
    if (!announces(src) || watched.includes(src)) continue;
    src.on('update', refresh);
    watched.push(src);
  }
  if (watched.length > 0) sourceWatches.register(home, () => {
    for (const src of watched) src.off('update', refresh);
  });
}

function homeFor(o: MtlsDialerOptions): { home: Credentials; polled: boolean } {
  if (o.credentials !== undefined) return { home: o.credentials, polled: false };
  if (o.svidSource === undefined || o.bundleSource === undefined) {
    throw new TypeError('forward: MtlsDialer needs credentials, or svidSource and bundleSource');
  }
  let home = o.store === undefined ? undefined : homesByStore.get(o.store);
  if (home === undefined) {
    home = new Credentials({ svidSource: o.svidSource, bundleSource: o.bundleSource });
    if (o.store !== undefined) homesByStore.set(o.store, home);
    home.update();
    watchSources(home, [o.svidSource, o.bundleSource]);
  }
  return { home, polled: true };
}

/**
 * Unsubscribes a dialer's relay from the home once the dialer itself is
 * garbage: a proxy drops dialers (an evicted transparent destination)
 * without telling anyone, and the home must not keep them alive.
 */
const relays = new FinalizationRegistry<() => void>((unsubscribe) => unsubscribe());

/** The pool listeners of one dialer, reached from the home only through a WeakRef. */
class ChangeRelay {
  readonly listeners: (() => void)[] = [];

  fire(): void {
    for (const fn of this.listeners) fn();
  }
}

/**
 * SPIFFE mTLS to a peer sidecar: presents the SVID current at dial time
 * (the credentials home's), verifies the server's X509-SVID with
 * sidecar/tls and authorizes its ID against the upstream's matcher. The
 * verified identity travels as a value: `presentedId` and
 * `peerIdentity(socket)` come from the verifier's result. Counts opened
 * connections and handshake failures as outbound.
 */
export class MtlsDialer implements Dialer {
  readonly target: string;
  readonly #o: MtlsDialerOptions;
  readonly #home: Credentials;
  readonly #polled: boolean;
  readonly #check: ReturnType<typeof serverIdentityCheck>;
  #relay: ChangeRelay | undefined;

  constructor(o: MtlsDialerOptions) {
    this.#o = o;
    this.target = formatAddress(o.address);
    ({ home: this.#home, polled: this.#polled } = homeFor(o));
    this.#check = serverIdentityCheck({ credentials: this.#home, authorize: authorizeMatcher(o.server), ...(o.clock ? { clock: o.clock } : {}) });
  }


  onCredentialsChange(listener: () => void): void {
    if (this.#relay === undefined) {
      const relay = new ChangeRelay();
      const ref = new WeakRef(relay);
      const unsubscribe = this.#home.onCredentialsChange(() => ref.deref()?.fire());
      relays.register(relay, unsubscribe);
      this.#relay = relay;
    }
    this.#relay.listeners.push(listener);
  }

  dial(cb: DialCallback): void {
    const o = this.#o;
    if (this.#polled) this.#home.update();
    let secureContext;
    try {
      secureContext = this.#home.secureContext();
    } catch (err) {
      // What the credentials home threw, as it is: before the first SVID or
      // after a withdrawal that is 'workload.no_svid', which the error
      // response map answers with 503 `no_svid`.
      cb(err instanceof Error ? err : new Error(describeError(err)));
      return;
    }
    let verified: PeerIdentity | undefined;
    const check = this.#check;
    const socket = tls.connect({
      host: o.address.host,
      port: o.address.port,
      secureContext,
      rejectUnauthorized: true,
      // The decision is sidecar/tls's; the identity it verified is kept as
      // the value metrics, logs and pools use.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        const r = check(cert);
        if (!r.ok) return r.error;
        verified = r.identity;
        return undefined;
      },
      session: undefined,
      ...(o.alpn ? { ALPNProtocols: [o.alpn] } : {}),
      ...(o.lookup ? { lookup: o.lookup } : {}),
    });
    socket.setNoDelay(true);
    settle(
      socket,
      'secureConnect',
      o.connectTimeoutMs,
      this.target,
      (err, s, id) => {
        if (err) {
          if (!(err instanceof ForwardError)) o.metrics.handshakeError('outbound', tlsFailureReason(err));
          cb(err);
          return;
        }
        o.metrics.connectionOpened('outbound');
        s!.once('close', () => o.metrics.connectionClosed('outbound'));
        cb(null, s, id);
      },
      () => {
        if (o.alpn === 'h2' && socket.alpnProtocol !== 'h2') {
          return new ForwardError('forward.protocol', `upstream ${this.target} did not negotiate h2 (ALPN: ${socket.alpnProtocol || 'none'})`);
        }
        if (verified !== undefined) rememberPeerIdentity(socket, verified);
        return undefined;
      },
      () => verified?.id.toString() ?? '',
    );
  }
}
