import type { Exchange } from './exchange.ts';

/**
 * The connections to where requests go next, the local app (inbound) or a
 * peer sidecar (outbound): an HTTP/1.1 keep-alive pool or one HTTP/2
 * session. Not a route: the config's `UpstreamRoute` says which host leads
 * to which peer.
 */
export interface UpstreamPool {
  /** Name for logs and the access log's `dst` (an address or a configured host). */
  readonly dst: string;
  /** Sends the request and streams the answer back through `ex`; reports every failure through `ex`. */
  forward(ex: Exchange): void;
  /** Stops taking requests and closes connections once their requests finished. */
  close(): Promise<void>;
  /** Closes every connection now. */
  destroy(): void;
}
