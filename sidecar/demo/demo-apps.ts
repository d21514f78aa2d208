import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DEFAULT_USER_HEADERS, parseXfcc, xfccValue } from '../headers/index.ts';
import { httpCall } from './http-call.ts';
import { describeError } from '../core/index.ts';

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
  /** The verified end user its sidecar described in the x-auth-* headers; null when there was none. */
  readonly user: BackendUser | null;
  /** Whether an Authorization header reached the app (its value is never echoed). */
  readonly authorizationReceived: boolean;
}

/** The end user as the backend app received it from its sidecar. */
export interface BackendUser {
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly clientId: string | null;
  readonly scopes: string | null;
  /** {@link CUSTOMER_ID_HEADER}, set by the backend sidecar's `headers.claimHeaders`. */
  readonly customerId: string | null;
  /** x-auth-claims decoded (base64url JSON); null when absent or not JSON. */
  readonly claims: Readonly<Record<string, unknown>> | null;
}

/** The header the backend's sidecar maps the `customer_id` claim to. */
export const CUSTOMER_ID_HEADER = 'x-customer-id';

/** What the frontend's `/call` answers: the backend's status, its answer, and its challenge on a 401. */
export interface FrontendAnswer {
  readonly backendStatus: number;
  /** A {@link BackendEcho}, or the text a sidecar answered in the app's place. */
  readonly backend: unknown;
  /** The backend side's `WWW-Authenticate` (RFC 6750 §3), null when none. */
  readonly backendChallenge: string | null;
}

/** The header a spoofing app sends, and the identity it pretends to have. */
export const SPOOFED_ID = 'spiffe://example.org/admin';

/** A header's value as one string (repeated headers joined), null when absent. */
export function one(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

/** Answers `body` as indented JSON. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts `server` on 127.0.0.1:`port` and counts its requests; a bad client connection is dropped, never fatal. */
export async function listenApp(server: Server, port: number): Promise<DemoApp> {
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

function claimsOf(value: string | null): Readonly<Record<string, unknown>> | null {
  if (value === null) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The x-auth-* headers the backend received, or null when its sidecar set none. */
function userOf(headers: IncomingMessage['headers']): BackendUser | null {
  const h = DEFAULT_USER_HEADERS;
  const subject = one(headers[h.subject]);
  const claimsText = one(headers[h.claims]);
  if (subject === null && claimsText === null) return null;
  return {
    subject,
    issuer: one(headers[h.issuer]),
    clientId: one(headers[h.clientId]),
    scopes: one(headers[h.scopes]),
    customerId: one(headers[CUSTOMER_ID_HEADER]),
    claims: claimsOf(claimsText),
  };
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
        user: userOf(req.headers),
        authorizationReceived: req.headers.authorization !== undefined,
      };
      json(res, 200, echo);
    });
  });
  return listenApp(server, port);
}

/**
 * The frontend, standing in for the edge: `GET /call?path=/hello` calls the
 * backend through its own sidecar's outbound listener (plain HTTP,
 * `Host: backend`), passing on the client's `Authorization` header, so the
 * user's token reaches the backend's sidecar; `GET /call-spoofed` does the
 * same but claims to be {@link SPOOFED_ID} in the identity headers, the way
 * a compromised or buggy app might. Answers a {@link FrontendAnswer}.
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
    // The token is passed on, never echoed: sentHeaders only says that it was.
    const authorization = req.headers.authorization;
    const headers = authorization === undefined ? sent : { ...sent, authorization };
    httpCall(outboundPort, path.startsWith('/') ? path : `/${path}`, { headers }).then(
      (r) => {
        let backend: unknown = r.body;
        try {
          backend = JSON.parse(r.body);
        } catch {
          // not JSON: an error text from a sidecar
        }
        const shown = authorization === undefined ? sent : { ...sent, authorization: '(the client\'s, passed on)' };
        json(res, 200, { service: 'frontend', sentHeaders: shown, backendStatus: r.status, backendChallenge: one(r.headers['www-authenticate']), backend });
      },
      (err: unknown) => json(res, 502, { service: 'frontend', error: describeError(err) }),
    );
  });
  return listenApp(server, port);
}

/** `GET path` on the frontend app, with `headers` (the client's Authorization); an unreadable answer has backendStatus 0. */
export async function callThroughFrontend(frontendPort: number, path: string, headers: Readonly<Record<string, string>> = {}): Promise<FrontendAnswer> {
  const r = await httpCall(frontendPort, path, { headers });
  try {
    return JSON.parse(r.body) as FrontendAnswer;
  } catch {
    return { backendStatus: 0, backend: r.body, backendChallenge: null };
  }
}
