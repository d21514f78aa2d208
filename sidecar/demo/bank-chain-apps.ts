import { createServer } from 'node:http';
import { json, listenApp, one, type DemoApp } from './demo-apps.ts';
import { httpCall } from './http-call.ts';
import { viewJwt } from './jwt-view.ts';
import { describeError } from '../core/index.ts';

/** The three services of the demo's bank chain. */
export type BankRole = 'edge' | 'accounts' | 'payments';

/** One request a bank app received, as its sidecar delivered it. Kept in memory only; the demo never prints `authorization`. */
export interface SeenRequest {
  readonly path: string;
  /** The Authorization header as received (null when absent). */
  readonly authorization: string | null;
  /** x-auth-subject, set by the app's sidecar from the verified token. */
  readonly subject: string | null;
  /** x-client-spiffe-id, set by the app's sidecar from the caller's certificate. */
  readonly callerSpiffeId: string | null;
  /** Every header value received, to check that a credential never arrived under another name. */
  readonly headerValues: readonly string[];
}

/** A bank app: a {@link DemoApp} that also keeps the requests it saw. */
export interface BankApp extends DemoApp {
  /** The most recent requests, oldest first (at most {@link MAX_SEEN}). */
  seen(): readonly SeenRequest[];
}

/** Where a hop sends the user's call on: its own sidecar's outbound listener, with this Host. */
export interface NextHop {
  readonly host: string;
  readonly outboundPort: number;
}

/** Requests kept per app: the demo keeps running, so memory stays bounded. */
export const MAX_SEEN = 100;

const ROUTE = /^\/(accounts|payments)\/([a-z0-9-]{1,32})$/;

/**
 * One service of the bank chain on 127.0.0.1:`port`, recording every
 * request it receives. `edge` passes `GET /accounts/<who>` on to accounts
 * unchanged; `accounts` calls `GET /payments/<who>`; `payments` answers.
 * A hop passes on the Authorization header it received, as an app that
 * propagates its user's token does; its sidecar decides what crosses the
 * network. The answer is `{ hop, got, status, downstream }`: the claims of
 * the token the app got (decoded, the token itself never echoed), and the
 * next hop's status (502 when it could not be reached) and answer.
 */
export function startBankApp(role: BankRole, port: number, next?: NextHop): Promise<BankApp> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    req.resume();
    const path = req.url ?? '/';
    const authorization = one(req.headers.authorization);
    seen.push({
      path,
      authorization,
      subject: one(req.headers['x-auth-subject']),
      callerSpiffeId: one(req.headers['x-client-spiffe-id']),
      headerValues: Object.values(req.headers).flatMap((v) => (v === undefined ? [] : [v].flat())),
    });
    if (seen.length > MAX_SEEN) seen.shift();
    const m = ROUTE.exec(path);
    const expected = role === 'payments' ? 'payments' : 'accounts';
    if (req.method !== 'GET' || m === null || m[1] !== expected) return json(res, 404, { hop: role, error: `try GET /${expected}/<customer>` });
    const who = m[2]!;
    const got = authorization === null ? null : (viewJwt(authorization)?.claims ?? '(not a JWT)');
    if (next === undefined) return json(res, 200, { hop: role, got, customer: who, payments: [{ id: 1, amount: 42 }] });
    const nextPath = role === 'accounts' ? `/payments/${who}` : path;
    const headers = authorization === null ? { host: next.host } : { host: next.host, authorization };
    httpCall(next.outboundPort, nextPath, { headers }).then(
      (r) => json(res, r.status, { hop: role, got, status: r.status, downstream: parsed(r.body) }),
      (err: unknown) => json(res, 502, { hop: role, got, status: 0, error: describeError(err) }),
    );
  });
  return listenApp(server, port).then((app) => ({ ...app, seen: () => seen }));
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body.trim();
  }
}
