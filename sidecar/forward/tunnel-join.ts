import type { Socket } from 'node:net';
import type { Logger } from '../core/index.ts';
import type { Dialer } from './dialer.ts';
import { errorResponse } from './error-response.ts';
import { joinStreams } from './join-streams.ts';
import type { TunnelSet } from './tunnel-set.ts';

/** Where {@link joinTunnel} records the tunnel and logs its outcome. */
export interface TunnelJoinContext {
  readonly tunnels: TunnelSet;
  readonly logger: Logger;
  /** Fields on both log lines, naming the tunnel (its peer or destination). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The warn message when the dial fails. */
  readonly failure: string;
}

/**
 * Joins an accepted, paused connection byte for byte to a new connection
 * from `dialer`: the raw TCP tunnel of both directions (a `tcp` listener,
 * a redirected opaque connection, an inbound opaque port). A failed dial
 * closes the accepted connection: raw TCP has no way to say why, so the
 * reason (for mTLS, the expected and presented IDs) goes to the log. The
 * pair stays in `tunnels` until either side ends, for drain.
 */
export function joinTunnel(socket: Socket, dialer: Dialer, c: TunnelJoinContext): void {
  const done = c.tunnels.add(socket);
  dialer.dial((err, up, serverId) => {
    if (err) {
      const r = errorResponse(err);
      c.logger.warn({ ...c.fields, reason: r.reason, err: r.body }, c.failure);
      socket.destroy();
      done();
      return;
    }
    // The accepted side may have hung up while the dial was under way.
    if (socket.destroyed) {
      up!.destroy();
      done();
      return;
    }
    c.tunnels.attach(socket, up!);
    joinStreams(socket, up!, done);
    socket.resume();
    c.logger.debug({ ...c.fields, ...(serverId ? { peer_id: serverId } : {}) }, 'tunnel open');
  });
}
