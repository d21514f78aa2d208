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
import { createConnection, createServer, type Socket } from 'node:net';
import { errorCode } from '../../../sidecar/core/index.ts';
import { originalDestination } from '../../../sidecar/transparent/index.ts';

const port = Number(process.argv[2]);
const targets = process.argv.slice(3);
const waiting: ((s: Socket) => void)[] = [];
const server = createServer((s) => {
  s.on('error', () => {});
  waiting.shift()?.(s);
});
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen({ port, host: '::', ipv6Only: false }, resolve);
});

const results: Record<string, unknown> = {};
for (const target of targets) {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
  const accepted = new Promise<Socket>((resolve) => waiting.push(resolve));
  const client = createConnection({ host, port: Number(target.slice(colon + 1)) });
  client.on('error', (err) => (results[target] = { error: err.message }));
  const s = await Promise.race([accepted, new Promise<undefined>((resolve) => setTimeout(resolve, 5_000, undefined).unref())]);
  if (s === undefined) {
    waiting.length = 0;
    results[target] ??= { error: 'not accepted' };
  } else {
    try {
      results[target] = { original: originalDestination(s) ?? null, local: s.localAddress };
    } catch (err) {
      results[target] = { code: errorCode(err) ?? String(err) };
    }
    s.destroy();
  }
  client.destroy();
}
server.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
