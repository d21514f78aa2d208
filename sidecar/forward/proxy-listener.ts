import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import type { Address, Clock, Logger, ProxyLimits } from '../core/index.ts';
import type { IdentityHeaders } from '../headers/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import type { Credentials, X509BundleSetProvider } from '../tls/index.ts';
import type { ExchangeTracer } from './exchange-tracer.ts';
import type { HttpFront, RequestAuditSink } from './http-front.ts';
import type { TunnelSet } from './tunnel-set.ts';

/**
 * The options every HTTP proxy listener (inbound and outbound) shares: where
 * it listens, the identity it presents, and what it reports to. Each
 * direction's options extend it with its routing.
 */
export interface ProxyListenerOptions {
  /** Where the listener binds; port 0 picks a free port (see start()). */
  readonly listen: Address;
  /**
   * The process's credentials home (sidecar/tls/credentials.ts): its SVID is
   * presented, its bundles verify peers, its change event swaps the TLS
   * context. Without it (library use) the two sources below are read instead.
   */
  readonly credentials?: Credentials | undefined;
  /** Without `credentials`: our SVID, presented to peers; read for every new connection. */
  readonly svidSource?: X509SvidSource | undefined;
  /** Without `credentials`: every trust domain whose peers we accept. */
  readonly bundleSource?: X509BundleSetProvider | undefined;
  /** Identity headers: stripped from what the app sent, set for what the app receives. */
  readonly headers: IdentityHeaders;
  readonly metrics: ProxyMetrics;
  readonly limits: ProxyLimits;
  readonly logger?: Logger;
  /** One info line per request (peer_id, dst, method, path, code, decision, reason, duration_ms; never the query). */
  readonly accessLog?: boolean;
  /** A span per request (sidecar/tracing); absent or null when tracing is off. */
  readonly tracer?: ExchangeTracer | null | undefined;
  /** Where each decision's audit line goes (docs/audit-log.md); none when absent. */
  readonly audit?: RequestAuditSink | null | undefined;
  /** Time for certificate expiry checks, timeouts and the drain deadline (default: the system clock). */
  readonly clock?: Clock;
}

/** The lifecycle every proxy listener (HTTP or TCP, inbound or outbound) offers. */
export interface ProxyListener {
  /** Starts listening; resolves with the port bound (useful with port 0). */
  start(): Promise<{ port: number }>;
  /** Closes the listening socket: no new connections; existing ones continue. */
  stopAccepting(): Promise<void>;
  /**
   * Lets in-flight requests (or tunnels) finish, closes idle connections,
   * and at `deadlineMs` destroys what is left; resolves with how many
   * requests or tunnels were cut off.
   */
  drain(deadlineMs: number): Promise<{ abandoned: number }>;
  /** Requests (HTTP) or tunnels (TCP) in flight. */
  activeRequests(): number;
  /** Closes everything now. */
  close(): void;
}

/** Listens on `addr` and resolves with the bound port. */
export async function listenOn(server: Server, addr: Address): Promise<{ port: number }> {
  server.listen(addr.port, addr.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
  return { port: (server.address() as AddressInfo).port };
}

/**
 * Closes the listening socket now. Node's close callback waits for every
 * connection, which is drain's business, so this does not wait for it.
 */
export function stopListening(server: Server): Promise<void> {
  if (server.listening) server.close(() => {});
  return Promise.resolve();
}

/** The connections an HTTP listener forwards to: closed when its requests are done, destroyed after a cut. */
export interface ListenerUpstreams {
  close(): Promise<void>;
  destroy(): void;
}

/** What an HTTP proxy listener (inbound or outbound) holds: its socket, its HTTP front and its raw tunnels. */
export interface HttpListenerParts {
  readonly server: Server;
  readonly front: HttpFront;
  readonly tunnels: TunnelSet;
}

/**
 * ProxyListener.drain for an HTTP listener: stop accepting, let requests and
 * tunnels finish until `deadlineMs`, then close the upstream connections
 * (or destroy them when something was cut: a connection may still wait on
 * a request nobody wants).
 */
export async function drainHttpListener(p: HttpListenerParts, upstreams: ListenerUpstreams, deadlineMs: number): Promise<{ abandoned: number }> {
  await stopListening(p.server);
  const [r, t] = await Promise.all([p.front.drain(deadlineMs), p.tunnels.drain(deadlineMs)]);
  if (r.abandoned > 0) upstreams.destroy();
  else await upstreams.close();
  return { abandoned: r.abandoned + t.abandoned };
}

/** ProxyListener.close for an HTTP listener: everything now. */
export function closeHttpListener(p: HttpListenerParts, upstreams: ListenerUpstreams): void {
  if (p.server.listening) p.server.close();
  p.front.destroy();
  p.tunnels.destroy();
  upstreams.destroy();
}
