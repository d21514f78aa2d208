import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * Finds `count` distinct free TCP ports on `host` by binding port 0 that
 * many times at once, then releasing them. The configuration refuses port 0,
 * so the demo and the tests pick real ports up front; another process could
 * take one in between, which on loopback of a test machine is rare enough.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}
