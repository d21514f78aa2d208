/** A TCP address: host name or IP literal (IPv6 without brackets) and port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Resource limits of one proxy listener (the config module's `Limits`).
 * Durations are milliseconds.
 */
export interface ProxyLimits {
  /** Largest request head accepted; more is answered 431 (HTTP/1.1) or 431 on the stream (HTTP/2). */
  readonly maxHeaderBytes: number;
  /** Connections one listener holds at once; more are closed on accept. Also caps each upstream pool. */
  readonly maxConnections: number;
  /** A kept-alive HTTP/1.1 connection or an HTTP/2 session without a request is closed after this long. */
  readonly idleTimeoutMs: number;
  /** Deadline for the upstream's response headers (504 when missed); 0 = none, for streaming and gRPC. */
  readonly requestTimeoutMs: number;
  /** Time a client has to complete its TLS handshake and each request head (slowloris); 408 when missed. */
  readonly headersTimeoutMs: number;
  /** Time to establish a connection (TCP, and TLS when there is one) to an upstream. */
  readonly connectTimeoutMs: number;
}

/** `host:port`, bracketing IPv6 literals, for messages and URLs. */
export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
