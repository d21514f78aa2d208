/**
 * Raw TLS round trips for the tls tests: servers listen on 127.0.0.1 with
 * an ephemeral port, a client connects, writes once the handshake is done,
 * and settles on the first reply, error or close. Everything opened is
 * tracked so that one `close()` in an `after` hook ends it, also when a
 * test failed halfway (an open socket would keep the test process alive).
 */
import { once } from 'node:events';
import type net from 'node:net';
import tls from 'node:tls';

/** What a client connection ended with. */
export interface TlsOutcome {
  readonly socket?: tls.TLSSocket;
  readonly reply?: string;
  readonly error?: Error & { code?: string };
  /** Whether the client saw 'secureConnect' (its side of the handshake completed). */
  readonly sawSecureConnect: boolean;
}

/** The servers and sockets a test file opened. */
export class TlsSockets {
  readonly #servers: net.Server[] = [];
  readonly #sockets = new Set<net.Socket>();

  /** Tracks a socket opened elsewhere, so {@link close} ends it too. */
  track(socket: net.Socket): void {
    this.#sockets.add(socket);
  }

  /** Listens on 127.0.0.1 (ephemeral port); resolves the port. */
  async listen<S extends net.Server>(server: S): Promise<number> {
    this.#servers.push(server);
    server.on('connection', (s: net.Socket) => this.#sockets.add(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as net.AddressInfo).port;
  }

  /** Connects with `opts`, writes `payload` once secure, and settles on the first reply, error or close. */
  exchange(opts: tls.ConnectionOptions, port: number, payload = 'ping'): Promise<TlsOutcome> {
    return new Promise((resolve) => {
      let sawSecureConnect = false;
      const socket = tls.connect({ ...opts, host: '127.0.0.1', port });
      this.#sockets.add(socket);
      socket.on('secureConnect', () => {
        sawSecureConnect = true;
        socket.write(payload);
      });
      socket.once('data', (d) => resolve({ socket, reply: String(d), sawSecureConnect }));
      socket.on('error', (error) => resolve({ error, sawSecureConnect }));
      socket.on('close', () => resolve({ sawSecureConnect }));
    });
  }

  /** Ends every tracked socket and closes every server. */
  close(): void {
    for (const s of this.#sockets) s.destroy();
    for (const s of this.#servers) s.close();
  }
}
