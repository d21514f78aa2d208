/**
 * Run inside a private network namespace by
 * original-destination-rules.test.ts, as a uid the redirect rules capture:
 * listens once on `[::]:<port>` (dual stack, as the injected sidecar binds
 * its outbound listener), connects to every `host:port` argument, and
 * prints one JSON line: for each target, what originalDestination() said
 * about the accepted connection (the destination, null for "not
 * redirected", or the error code), and the accepted socket's local
 * address.
 *
 *   node dual-stack-probe.ts <port> <host:port> ...
 */
import { createServer } from 'node:net';
import { originalDestination } from '../../../sidecar/transparent/index.ts';
import { TargetProbe } from './target-probe.ts';

const port = Number(process.argv[2]);
const targets = process.argv.slice(3);
const probe = new TargetProbe();
const server = createServer(probe.accept);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen({ port, host: '::', ipv6Only: false }, resolve);
});

const results = await probe.run(targets, (s) => ({ original: originalDestination(s) ?? null, local: s.localAddress }));
server.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
