import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * Ports this process has handed out already. Each call binds port 0 and
 * releases the ports before returning, so the kernel may offer a released
 * port again to a later call while the first caller has not bound it yet
 * (the demo once gave one port to a sidecar's outbound listener and to
 * another sidecar's admin). Remembering them makes every port unique within
 * the process.
 */
const handedOut = new Set<number>();

/** Binds beyond this many collisions mean the ephemeral range is exhausted. */
const MAX_EXTRA_BINDS = 256;

/**
 * Finds `count` distinct free TCP ports on `host`, none handed out before in
 * this process, by binding port 0 until enough new ones are held at once,
 * then releasing them. The configuration refuses port 0, so the demo and the
 * tests pick real ports up front; another process could take one in
 * between, which on loopback of a test machine is rare enough.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    for (let binds = 0; ports.length < count; binds++) {
      if (binds >= count + MAX_EXTRA_BINDS) throw new Error(`freePorts: no ${count} unused ports on ${host} after ${binds} binds`);
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
      const port = (s.address() as AddressInfo).port;
      if (handedOut.has(port)) continue;
      handedOut.add(port);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}
