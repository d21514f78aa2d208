import tls, { type Server, type TLSSocket } from 'node:tls';
import type { Clock, Logger, ProxyLimits } from '../core/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import { authorizeAny, mtlsServer, peerIdentity, tlsFailureReason, type Credentials, type MtlsServerEvents, type PeerIdentity, type PeerRejectedEvent, type X509BundleSetProvider } from '../tls/index.ts';

/** Options of {@link createMtlsListener}. */
export interface MtlsListenerOptions {
  /** The process's credentials home; without it the two sources are re-read per connection. */
  readonly credentials?: Credentials | undefined;
  readonly svidSource?: X509SvidSource | undefined;
  readonly bundleSource?: X509BundleSetProvider | undefined;
  /** ALPN protocols offered; none for raw TCP. */
  readonly alpn?: readonly string[];
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Receives each client whose X509-SVID verified, with its identity. */
  readonly onPeer: (socket: TLSSocket, peer: PeerIdentity) => void;
}

/** Node/OpenSSL codes of a client that did not speak TLS at all. */
const NOT_TLS = new Set(['ERR_SSL_HTTP_REQUEST', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_RECORD_LAYER_FAILURE']);

function handshakeReason(err: Error & { code?: string }): string {
  const code = err.code ?? '';
  if (NOT_TLS.has(code)) return 'not_tls';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET') return 'reset';
  return tlsFailureReason(err);
}

/**
 * The inbound TLS listener: requires a client certificate and verifies it
 * as an X509-SVID against every trusted bundle (own and federated) with
 * sidecar/tls, which refuses bad peers before any application byte is read
 * (SPIFFE X509-SVID §5; authentication only: any verified ID gets through,
 * and policy decides per request or per tunnel). Every refusal is counted
 * by reason with metrics.handshakeError('inbound', reason).
 *
 * The handshake must finish within headersTimeoutMs, and the listener holds
 * at most maxConnections connections. Client-initiated renegotiation (TLS
 * 1.2) is refused.
 */
export function createMtlsListener(o: MtlsListenerOptions): Server {
  const m = mtlsServer({
    credentials: o.credentials,
    svidSource: o.svidSource,
    bundleSource: o.bundleSource,
    authorize: authorizeAny(),
    clock: o.clock,
    logger: o.logger,
    ...(o.alpn ? { alpn: o.alpn } : {}),
  });
  const server = m.attach(tls.createServer({ ...m.options, handshakeTimeout: o.limits.headersTimeoutMs }));
  server.maxConnections = o.limits.maxConnections;
  countHandshakeFailures(server, o);
  server.on('drop', () => o.logger.warn({ max_connections: o.limits.maxConnections }, 'connection refused: listener at maxConnections'));
  server.on('secureConnection', (socket: TLSSocket) => acceptPeer(socket, o));
  return server;
}

/** Counts and logs every refused handshake once: identity refusals from 'peerRejected', the others from 'tlsClientError'. */
function countHandshakeFailures(server: Server & MtlsServerEvents, o: MtlsListenerOptions): void {
  // sidecar/tls emits 'peerRejected' for identity failures, including the
  // ones it learns about on 'tlsClientError'; that emit happens inside its
  // own 'tlsClientError' listener, which runs before ours, so this flag
  // tells ours not to count the same failure twice.
  let countedByTls = false;
  server.on('peerRejected', (ev: PeerRejectedEvent) => {
    if (ev.stage === 'handshake') countedByTls = true;
    o.metrics.handshakeError('inbound', ev.reason);
    o.logger.info({ reason: ev.reason, stage: ev.stage, ...(ev.presentedId ? { peer_id: ev.presentedId } : {}), remote: ev.remoteAddress }, 'peer refused');
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    // With a 'tlsClientError' listener Node leaves the socket open (seen with
    // handshake timeouts), so a slow or silent client would hold it forever.
    socket.destroy();
    if (countedByTls) {
      countedByTls = false;
      return;
    }
    const reason = handshakeReason(err);
    o.metrics.handshakeError('inbound', reason);
    o.logger.debug({ reason, err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
  });
}

/** Hands a verified client to `onPeer`, with renegotiation refused. */
function acceptPeer(socket: TLSSocket, o: MtlsListenerOptions): void {
  socket.on('error', onSocketError);
  // A TLS 1.2 client may ask for a new handshake at any time (RFC 5746);
  // each costs the server a full handshake and may change the client
  // certificate under requests already authorized, so it is refused and
  // the connection closed (TLS 1.3 has no renegotiation, RFC 8446 §4.1).
  // Node only reports the attempt as an 'error'; onSocketError closes.
  socket.disableRenegotiation();
  const peer = peerIdentity(socket);
  if (peer === undefined) {
    socket.destroy();
    return;
  }
  o.onPeer(socket, peer);
}

/** Errors of accepted sockets are per connection; a refused renegotiation also ends the connection. */
function onSocketError(this: TLSSocket, err: Error & { code?: string }): void {
  if (err.code === 'ERR_TLS_RENEGOTIATION_DISABLED') this.destroy();
}
