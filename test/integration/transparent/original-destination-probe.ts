/**
 * Run inside a test's network namespace by original-destination.test.ts:
 * listens on 127.0.0.1 and [::1] at LISTEN_PORT, connects once to every
 * `host:port` argument (iptables may redirect them to the listener), and
 * prints one JSON line: for each target, what originalDestination() said
 * about the accepted connection (the destination, null for "not
 * redirected", or the error code).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { errorCode } from '../../../sidecar/core/index.ts';
import { originalDestination } from '../../../sidecar/transparent/index.ts';

const LISTEN_PORT = Number(process.argv[2]);
const targets = process.argv.slice(3);

function listen(host: string, onSocket: (s: Socket) => void): Promise<Server> {
  return new Promise((res, rej) => {
    const s = createServer(onSocket);
    s.once('error', rej);
    s.listen(LISTEN_PORT, host, () => res(s));
  });
}

const waiting: ((s: Socket) => void)[] = [];
const accepted = (s: Socket): void => {
  s.on('error', () => {});
  waiting.shift()?.(s);
};
const servers = [await listen('127.0.0.1', accepted), await listen('::1', accepted)];

const results: Record<string, unknown> = {};
for (const target of targets) {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(target.slice(colon + 1));
  const serverSide = new Promise<Socket>((res) => waiting.push(res));
  const client = createConnection({ host, port });
  client.on('error', (err) => {
    results[target] = { error: err.message };
  });
  const s = await Promise.race([serverSide, new Promise<undefined>((res) => setTimeout(res, 5_000, undefined).unref())]);
  if (s === undefined) {
    waiting.length = 0;
    results[target] ??= { error: 'not accepted' };
  } else {
    try {
      results[target] = originalDestination(s) ?? null;
    } catch (err) {
      results[target] = { code: errorCode(err) ?? String(err) };
    }
    s.destroy();
  }
  client.destroy();
}
for (const s of servers) s.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
