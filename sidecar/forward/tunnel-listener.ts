import type { Server } from 'node:net';
import { formatAddress, type Address, type Logger } from '../core/index.ts';
import { listenOn, stopListening, type ProxyListener } from './proxy-listener.ts';
import type { TunnelSet } from './tunnel-set.ts';

/**
 * The lifecycle of a raw TCP tunnel listener, shared by both directions:
 * drain waits for open tunnels (a tunnel has no request boundary to finish
 * at), and close destroys them.
 */
export function tunnelListener(server: Server, tunnels: TunnelSet, listen: Address, logger: Logger, what: string): ProxyListener {
  return {
    async start() {
      const r = await listenOn(server, listen);
      logger.info({ listen: formatAddress({ host: listen.host, port: r.port }) }, `${what} listening`);
      return r;
    },
    stopAccepting: () => stopListening(server),
    async drain(deadlineMs) {
      await stopListening(server);
      return tunnels.drain(deadlineMs);
    },
    activeRequests: () => tunnels.size,
    close() {
      if (server.listening) server.close();
      tunnels.destroy();
    },
  };
}
