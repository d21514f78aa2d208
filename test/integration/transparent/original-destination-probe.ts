/**
 * Run inside a test's network namespace by original-destination.test.ts:
 * listens on 127.0.0.1 and [::1] at LISTEN_PORT, connects once to every
 * `host:port` argument (iptables may redirect them to the listener), and
 * prints one JSON line: for each target, what originalDestination() said
 * about the accepted connection (the destination, null for "not
 * redirected", or the error code).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { originalDestination } from '../../../sidecar/transparent/index.ts';
import { TargetProbe } from './target-probe.ts';

const LISTEN_PORT = Number(process.argv[2]);
const targets = process.argv.slice(3);

function listen(host: string, onSocket: (s: Socket) => void): Promise<Server> {
  return new Promise((res, rej) => {
    const s = createServer(onSocket);
    s.once('error', rej);
    s.listen(LISTEN_PORT, host, () => res(s));
  });
}

const probe = new TargetProbe();
const servers = [await listen('127.0.0.1', probe.accept), await listen('::1', probe.accept)];
const results = await probe.run(targets, (s) => originalDestination(s) ?? null);
for (const s of servers) s.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
