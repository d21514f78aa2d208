/**
 * Real backends for the security regression suite, each recording what it
 * was sent: hypercorn (Python, from .cache/venv; HTTP/1.1, h2c and the h2c
 * Upgrade) running asgi_echo.py, and Node's own node:http and node:http2
 * servers. A record says whether the body arrived complete or was cut off,
 * which is what the truncation rows assert on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLogged } from '../../support/logged-process.ts';
import { Teardown } from '../../support/teardown.ts';
import type { Cleanup } from '../../support/proxy-fixtures.ts';

const root = join(import.meta.dirname, '..', '..', '..');
/** The hypercorn that test/support/install-python-tools.sh installs. */
export const HYPERCORN = join(root, '.cache', 'venv', 'bin', 'hypercorn');

/** One request as a backend received it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The body ended properly (END_STREAM, last chunk, all of content-length), not by a reset or a close. */
  readonly complete: boolean;
}

/** A running backend. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  /** Every request received so far (settled ones; an open body is not listed yet). */
  seen(): Promise<SeenRequest[]>;
  /** Connections accepted so far (Node backends; hypercorn does not say). */
  readonly connections: () => number;
  /** Answers every held request (paths starting /hold) and stops holding new ones. */
  release(): void;
}

function flat(h: IncomingMessage['headers'] | http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

/**
 * A node:http app. Requests to /hold... are answered only on release()
 * (their connection stays busy); others when their body ended.
 */
export async function startNodeH1(cleanup: Cleanup): Promise<Backend> {
  const seen: SeenRequest[] = [];
  let connections = 0;
  let holding = true;
  const held: ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    req.on('error', () => {});
    let settled = false;
    const settle = (complete: boolean): void => {
      if (settled) return;
      settled = true;
      seen.push({ method: req.method!, path: req.url!, headers: flat(req.headers), body, complete: complete && req.complete });
    };
    req.on('end', () => {
      settle(true);
      if (req.url!.startsWith('/hold') && holding) held.push(res);
      else res.end('plain');
    });
    req.on('close', () => settle(false));
  });
  server.on('connection', (s: Socket) => {
    connections++;
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    name: 'node http',
    port: (server.address() as AddressInfo).port,
    seen: async () => [...seen],
    connections: () => connections,
    release() {
      holding = false;
      for (const r of held.splice(0)) r.end('plain');
    },
  };
}

/**
 * A node:http2 app without TLS (h2c). A body counts as complete only when
 * its readable side ended before any reset: node also ends it after a
 * RST_STREAM(CANCEL), but then `aborted` is already set.
 */
export async function startNodeH2c(cleanup: Cleanup): Promise<Backend> {
  const seen: SeenRequest[] = [];
  let connections = 0;
  const server = http2.createServer();
  server.on('stream', (stream: ServerHttp2Stream, h: http2.IncomingHttpHeaders) => {
    let body = '';
    let ended = false;
    stream.setEncoding('latin1');
    stream.on('data', (d: string) => (body += d));
    stream.on('error', () => {});
    stream.on('end', () => {
      if (!stream.aborted) ended = true;
      if (ended && !stream.closed && !stream.destroyed) {
        stream.respond({ ':status': 200 });
        stream.end('plain');
      }
    });
    stream.on('close', () => {
      seen.push({ method: String(h[':method']), path: String(h[':path']), headers: flat(h), body, complete: ended });
    });
  });
  server.on('connection', () => connections++);
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });
  return { name: 'node http2 (h2c)', port: (server.address() as AddressInfo).port, seen: async () => [...seen], connections: () => connections, release() {} };
}

/** GET on a backend directly (not through a sidecar). */
function getJson(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (b += d));
        res.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
}

interface HypercornSeen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  complete: boolean;
}

/**
 * hypercorn serving asgi_echo.py on an ephemeral port (HTTP/1.1 and h2c on
 * the same port, as hypercorn does by default). Call after
 * requireTools(t, [HYPERCORN]).
 */
export async function startHypercorn(cleanup: Cleanup): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'security-hypercorn-'));
  const teardown = new Teardown();
  cleanup.add(async () => {
    await teardown.run();
    rmSync(dir, { recursive: true, force: true });
  });
  const proc = startLogged({
    name: 'hypercorn',
    argv: [HYPERCORN, '--bind', '127.0.0.1:0', '--keep-alive', '30', 'asgi_echo:app'],
    cwd: import.meta.dirname,
    logFile: join(dir, 'hypercorn.log'),
    teardown,
  });
  const line = await proc.waitForLine(/Running on http:\/\/127\.0\.0\.1:\d+/, 20_000);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)![1]);
  return {
    name: 'hypercorn',
    port,
    async seen() {
      return (JSON.parse(await getJson(port, '/__seen')) as HypercornSeen[]).map((s) => ({ ...s }));
    },
    connections: () => -1,
    release() {},
  };
}
