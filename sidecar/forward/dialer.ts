import net, { type LookupFunction, type Socket } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import { describeError, type Clock } from '../core/index.ts';
import type { IdMatcher } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import { authorizeMatcher, mtlsClientOptions, tlsFailureReason, type MtlsClientOptions, type SecureContextStore, type X509BundleSetProvider } from '../tls/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import { ForwardError } from './forward-error.ts';
import { formatHostPort, type HostPort } from './proxy-limits.ts';

/** Called once per dial: a connected (and, for mTLS, verified) socket, or why there is none. */
export type DialCallback = (err: Error | null, socket?: Socket, presentedId?: string) => void;

/**
 * Opens connections to one upstream. Pools call it for every new
 * connection, so a dialer must read credentials afresh each time.
 */
export interface Dialer {
  /** `host:port` of the upstream, for error bodies and logs. */
  readonly target: string;
  /**
   * Changes when our credentials (SVID or bundles) change; pools retire
   * connections made under an older value so rotation reaches every peer.
   */
  generation(): number;
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
  readonly #address: HostPort;
  readonly #timeoutMs: number;

  constructor(address: HostPort, connectTimeoutMs: number) {
    this.#address = address;
    this.#timeoutMs = connectTimeoutMs;
    this.target = formatHostPort(address);
  }

  generation(): number {
    return 0;
  }

  dial(cb: DialCallback): void {
    const socket = net.connect({ host: this.#address.host, port: this.#address.port, noDelay: true });
    settle(socket, 'connect', this.#timeoutMs, this.target, cb, () => undefined, () => '');
  }
}

/** Options of {@link MtlsDialer}. */
export interface MtlsDialerOptions {
  readonly address: HostPort;
  /** Which server IDs are acceptable; anything else fails the dial with PeerNotAuthorized. */
  readonly server: IdMatcher;
  readonly svidSource: X509SvidSource;
  readonly bundleSource: X509BundleSetProvider;
  /** Shared by every upstream of a proxy, so a rotation rebuilds the context once. */
  readonly store: SecureContextStore;
  /** The one ALPN protocol offered (none for raw TCP); with 'h2' a server that does not pick it is refused. */
  readonly alpn?: 'h2' | 'http/1.1' | undefined;
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

/**
 * SPIFFE mTLS to a peer sidecar: presents the SVID current at dial time
 * (through the shared SecureContextStore), verifies the server's X509-SVID
 * with sidecar/tls and authorizes its ID against the upstream's matcher.
 * Counts opened connections and handshake failures as outbound.
 */
export class MtlsDialer implements Dialer {
  readonly target: string;
  readonly #o: MtlsDialerOptions;
  readonly #client: MtlsClientOptions;

  constructor(o: MtlsDialerOptions) {
    this.#o = o;
    this.target = formatHostPort(o.address);
    this.#client = mtlsClientOptions({
      svidSource: o.svidSource,
      bundleSource: o.bundleSource,
      authorize: authorizeMatcher(o.server),
      store: o.store,
      ...(o.alpn ? { alpn: [o.alpn] } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
    });
  }

  generation(): number {
    try {
      return this.#o.store.snapshot().generation;
    } catch {
      return -1;
    }
  }

  dial(cb: DialCallback): void {
    const o = this.#o;
    let secureContext;
    try {
      secureContext = this.#client.secureContext;
    } catch (err) {
      cb(new ForwardError('forward.no_svid', `no SVID to present to ${this.target}: ${describeError(err)}`, { cause: err }));
      return;
    }
    let presented = '';
    const check = this.#client.checkServerIdentity;
    const socket = tls.connect({
      host: o.address.host,
      port: o.address.port,
      secureContext,
      rejectUnauthorized: true,
      // Wrapped only to learn the verified ID for metrics and logs; the
      // decision is sidecar/tls's.
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        const problem = check(host, cert);
        if (problem === undefined) presented = uriSanOf(cert);
        return problem;
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
      () =>
        o.alpn === 'h2' && socket.alpnProtocol !== 'h2'
          ? new ForwardError('forward.protocol', `upstream ${this.target} did not negotiate h2 (ALPN: ${socket.alpnProtocol || 'none'})`)
          : undefined,
      () => presented,
    );
  }
}

/**
 * The URI SAN of a certificate that sidecar/tls already verified as an
 * X509-SVID (exactly one URI SAN, a valid SPIFFE ID, so no quoting applies).
 */
function uriSanOf(cert: PeerCertificate): string {
  const san = cert.subjectaltname ?? '';
  for (const part of san.split(', ')) if (part.startsWith('URI:')) return part.slice(4);
  return '';
}
