/**
 * The server pod of transparent-inbound.test.ts, run inside the pod's
 * network namespace: two HTTP apps (8080, 8081) and a TCP app (7000) on
 * 127.0.0.1, and the inbound proxy on 0.0.0.0:15006 in transparent mode
 * (original destination port picks the app; 7000 is opaque), with no
 * appPorts. It makes its own CA and prints one JSON line with the PEMs the
 * test's callers use, then serves until killed.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { parsePolicy } from '../../../sidecar/policy/index.ts';
import { originalDestination } from '../../../sidecar/transparent/index.ts';
import { TD, makePki, pemOf, rootsPem, sourceFor, svidFor } from '../../support/proxy-fixtures.ts';
import { inboundFor } from '../../support/inbound-fixture.ts';

const INBOUND_PORT = 15006;

function listen(server: { listen(port: number, host: string, cb: () => void): unknown; once(ev: 'error', cb: (e: Error) => void): unknown }, port: number): Promise<void> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', res);
  });
}

for (const port of [8080, 8081]) {
  await listen(
    createHttpServer((req, res) => res.end(`app-${port} ${req.url} ${String(req.headers['x-forwarded-client-cert'] ?? '')}`)),
    port,
  );
}
await listen(
  createTcpServer((s) => {
    s.on('error', () => {});
    s.once('data', (d) => s.end(`tcp-7000:${d.toString()}`));
  }),
  7000,
);

const pki = await makePki();
const server = await sourceFor(pki.ca, `spiffe://${TD}/backend`, pki.bundles);
const policy = parsePolicy({ version: 1, rules: [{ name: 'client', from: [{ id: `spiffe://${TD}/client` }] }] }, 'test-policy');
const inbound = inboundFor(server, 8080, {
  listen: { host: '0.0.0.0', port: INBOUND_PORT },
  policy: () => policy,
  originalPort: (socket) => originalDestination(socket)?.port,
  opaquePorts: [7000],
  reservedPorts: [INBOUND_PORT, 15001, 15020],
});
await inbound.start();
process.stdout.write(
  `${JSON.stringify({
    ready: true,
    ca: rootsPem(pki.bundles),
    client: pemOf(await svidFor(pki.ca, `spiffe://${TD}/client`)),
    intruder: pemOf(await svidFor(pki.ca, `spiffe://${TD}/intruder`)),
  })}\n`,
);
