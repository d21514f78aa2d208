import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import type { Address } from '../core/index.ts';

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
