import type { Socket } from 'node:net';
import type { Logger } from '../core/index.ts';
import { errorResponse, joinStreams, type Dialer, type TunnelSet } from '../forward/index.ts';

/**
 * Joins the app's paused connection to a new connection from `dialer`, as
 * an outbound raw tunnel (a `tcp` listener or a redirected opaque
 * connection). A failed dial closes the app's connection: raw TCP has no
 * way to say why, so the reason (expected and presented IDs included) goes
 * to the log as `failure`, with `fields` naming the destination. `tunnels`
 * tracks the pair for drain.
 */
export function dialTunnel(socket: Socket, dialer: Dialer, tunnels: TunnelSet, logger: Logger, fields: Readonly<Record<string, unknown>>, failure: string): void {
  const done = tunnels.add(socket);
  dialer.dial((err, up, serverId) => {
    if (err) {
      const r = errorResponse(err);
      logger.warn({ ...fields, reason: r.reason, err: r.body }, failure);
      socket.destroy();
      done();
      return;
    }
    if (socket.destroyed) {
      up!.destroy();
      done();
      return;
    }
    tunnels.attach(socket, up!);
    joinStreams(socket, up!, done);
    socket.resume();
    logger.debug({ ...fields, ...(serverId ? { peer_id: serverId } : {}) }, 'tunnel open');
  });
}
