/**
 * Picks free loopback TCP ports: binds port 0 as many times as needed, keeps
 * all sockets open until every port is known (so no port is handed out
 * twice), then closes them. A port may in principle be taken by someone else
 * before our process binds it; on a benchmark machine that is accepted.
 */
import { createServer, type Server } from 'node:net';

/** Returns `n` distinct free ports on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      const addr = s.address();
      if (addr === null || typeof addr === 'string') throw new Error('bench: unexpected listen address');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
