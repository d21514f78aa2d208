import { SidecarError } from '../core/index.ts';

/** Why forwarding a request or connection failed on the proxy's side. */
export type ForwardErrorCode =
  /** TCP connect to the upstream failed (refused, unreachable, DNS). */
  | 'forward.connect_failed'
  /** TCP or TLS connect did not finish within connectTimeoutMs. */
  | 'forward.connect_timeout'
  /** The upstream sent no response headers within requestTimeoutMs. */
  | 'forward.timeout'
  /** The upstream closed or reset the connection or stream before answering. */
  | 'forward.upstream_reset'
  /** The upstream broke the protocol we expected (e.g. no h2 in ALPN). */
  | 'forward.protocol'
  /** The proxy is shutting down and takes no new requests. */
  | 'forward.closed'
  /** The request cannot be forwarded as it is (e.g. an upgrade to an HTTP/2-only app). */
  | 'forward.unsupported'
  /** Every upstream connection the pool may open is busy; queueing would wait behind unfinished requests. */
  | 'forward.overloaded'
  /** The proxy reset the upstream request itself (client gone, body cut off or truncated). */
  | 'forward.cancelled';

/**
 * A forwarding failure. `detail` is the sentence shown to the client in the
 * error body (without the module prefix of `message`), e.g.
 * `upstream connect error: ECONNREFUSED 127.0.0.1:8080`.
 */
export class ForwardError extends SidecarError {
  declare readonly code: ForwardErrorCode;
  readonly detail: string;

  constructor(code: ForwardErrorCode, detail: string, options?: { cause?: unknown }) {
    super(code, `forward: ${detail}`, options);
    this.detail = detail;
  }
}
