/**
 * A real HTTP(S) server on 127.0.0.1 that plays an issuer for the JWKS
 * tests: each path serves a body with chosen status and headers, and the
 * test can make it reset connections, hang, or hold answers until released.
 * Counts requests per path.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** What one path answers. */
export interface Route {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

/** How the server behaves for every request. */
export type ServerMode = 'ok' | 'reset' | 'hang';

export class JwksServer {
  readonly #server: Server;
  readonly #routes = new Map<string, Route>();
  readonly #counts = new Map<string, number>();
  #held: (() => void)[] | undefined;
  mode: ServerMode = 'ok';
  readonly port: number;
  readonly #scheme: string;

  private constructor(server: Server, scheme: string) {
    this.#server = server;
    this.#scheme = scheme;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Listens on 127.0.0.1 (plain http, or https with `tls`). */
  static async start(tls?: { key: string; cert: string }): Promise<JwksServer> {
    let self: JwksServer | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => self!.#handle(req, res);
    const server = tls === undefined ? createHttpServer(handler) : (createHttpsServer(tls, handler) as unknown as Server);
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new JwksServer(server, tls === undefined ? 'http' : 'https');
    return self;
  }

  /** The URL of `path` (host `127.0.0.1`, or `host` when given). */
  url(path = '/jwks', host = '127.0.0.1'): string {
    return `${this.#scheme}://${host}:${this.port}${path}`;
  }

  /** Sets what `path` answers. */
  route(path: string, r: Route): void {
    this.#routes.set(path, r);
  }

  /** Requests received for `path` so far. */
  requests(path = '/jwks'): number {
    return this.#counts.get(path) ?? 0;
  }

  /** Holds every answer until the returned function is called. */
  hold(): () => void {
    this.#held = [];
    return () => {
      const held = this.#held ?? [];
      this.#held = undefined;
      for (const go of held) go();
    };
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    this.#counts.set(path, (this.#counts.get(path) ?? 0) + 1);
    if (this.mode === 'reset') return void req.socket.destroy();
    if (this.mode === 'hang') return;
    const answer = () => {
      const r = this.#routes.get(path);
      if (r === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers }).end(r.body);
    };
    if (this.#held !== undefined) this.#held.push(answer);
    else answer();
  }
}

/** Resolves once `cond()` holds, polling on real time; fails after `ms` (a hang guard, not a timing assertion). */
export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
