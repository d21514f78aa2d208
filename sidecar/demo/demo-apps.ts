import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseXfcc, xfccValue } from '../headers/index.ts';
import { httpCall } from './http-call.ts';

/** A small HTTP app of the demo, listening on loopback. */
export interface DemoApp {
  readonly port: number;
  /** Requests received so far. */
  requests(): number;
  close(): Promise<void>;
}

/** What the backend app answers: the caller identity headers it received, as its own sidecar set them. */
export interface BackendEcho {
  readonly service: 'backend';
  readonly method: string;
  readonly path: string;
  /** x-client-spiffe-id as received (null when absent). */
  readonly callerSpiffeId: string | null;
  /** x-forwarded-client-cert as received. */
  readonly xfcc: string | null;
  /** The XFCC's By, Hash and URI. */
  readonly xfccParts: { readonly by?: string; readonly hash?: string; readonly uri?: string } | null;
}

/** The header a spoofing app sends, and the identity it pretends to have. */
export const SPOOFED_ID = 'spiffe://example.org/admin';

function one(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function listen(server: Server, port: number): Promise<DemoApp> {
  let count = 0;
  server.on('request', () => count++);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    requests: () => count,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Describes the XFCC value the backend received (first element). */
function xfccParts(value: string | null): BackendEcho['xfccParts'] {
  if (value === null) return null;
  try {
    const el = parseXfcc(value)[0];
    if (el === undefined) return null;
    const by = xfccValue(el, 'By');
    const hash = xfccValue(el, 'Hash');
    const uri = xfccValue(el, 'URI');
    return { ...(by !== undefined ? { by } : {}), ...(hash !== undefined ? { hash } : {}), ...(uri !== undefined ? { uri } : {}) };
  } catch {
    return null;
  }
}

/** The backend: answers every request with the identity headers it received (see {@link BackendEcho}). */
export function startBackendApp(port: number): Promise<DemoApp> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const xfcc = one(req.headers['x-forwarded-client-cert']);
      const echo: BackendEcho = {
        service: 'backend',
        method: req.method ?? '',
        path: req.url ?? '',
        callerSpiffeId: one(req.headers['x-client-spiffe-id']),
        xfcc,
        xfccParts: xfccParts(xfcc),
      };
      json(res, 200, echo);
    });
  });
  return listen(server, port);
}

/**
 * The frontend: `GET /call?path=/hello` calls the backend through its own
 * sidecar's outbound listener (plain HTTP, `Host: backend`);
 * `GET /call-spoofed` does the same but claims to be {@link SPOOFED_ID} in
 * the identity headers, the way a compromised or buggy app might.
 */
export function startFrontendApp(port: number, outboundPort: number): Promise<DemoApp> {
  const server = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://frontend');
    const spoof = url.pathname === '/call-spoofed';
    if (url.pathname !== '/call' && !spoof) return json(res, 404, { error: 'try /call?path=/hello or /call-spoofed' });
    const path = url.searchParams.get('path') ?? '/hello';
    const sent: Record<string, string> = { host: 'backend' };
    if (spoof) {
      sent['x-client-spiffe-id'] = SPOOFED_ID;
      sent['x-forwarded-client-cert'] = `By=spiffe://example.org/backend;URI=${SPOOFED_ID}`;
    }
    httpCall(outboundPort, path.startsWith('/') ? path : `/${path}`, { headers: sent }).then(
      (r) => {
        let backend: unknown = r.body;
        try {
          backend = JSON.parse(r.body);
        } catch {
          // not JSON: an error text from a sidecar
        }
        json(res, 200, { service: 'frontend', sentHeaders: sent, backendStatus: r.status, backend });
      },
      (err: unknown) => json(res, 502, { service: 'frontend', error: err instanceof Error ? err.message : String(err) }),
    );
  });
  return listen(server, port);
}
