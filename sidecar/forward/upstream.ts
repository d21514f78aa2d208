import type { Exchange } from './exchange.ts';

/** Where requests go next: the local app (inbound) or a peer sidecar (outbound). */
export interface Upstream {
  /** Name for logs and the access log's `dst` (an address or a configured host). */
  readonly dst: string;
  /** Sends the request and streams the answer back through `ex`; reports every failure through `ex`. */
  forward(ex: Exchange): void;
  /** Stops taking requests and closes connections once their requests finished. */
  close(): Promise<void>;
  /** Closes every connection now. */
  destroy(): void;
}
