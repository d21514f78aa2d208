/**
 * A real OAuth 2.0 authorization server for tests: the `oidc-provider`
 * package on 127.0.0.1, run as a child process by test/support/oidc-provider.ts.
 *
 *   node server.ts <config.json>
 *
 * It enables the client credentials grant, RFC 7662 introspection (and the
 * RFC 9701 JWT response), RFC 7009 revocation, RFC 8707 resource indicators
 * with RFC 9068 JWT or opaque access tokens per resource, an RFC 8693 token
 * exchange grant (oidc-provider has none built in, so it is registered here)
 * that also issues transaction tokens (draft-ietf-oauth-transaction-tokens),
 * and, when the config has `tls`, RFC 8705 mTLS client authentication and
 * certificate-bound tokens.
 *
 * A second, plain-HTTP server on 127.0.0.1 is the control endpoint tests use
 * to mint or revoke tokens, rotate the signing key, read the request log and
 * inject introspection faults. It never listens on anything but loopback.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify, X509Certificate, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Provider, { errors, type BaseToken, type KoaContextWithOidc } from 'oidc-provider';
import {
  READY_PREFIX,
  type IntrospectionFault,
  type IssueTokenRequest,
  type LoggedRequest,
  type OidcResourceConfig,
  type OidcServerConfig,
} from './config.ts';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TT_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const TT_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const TT_TXN = 'urn:ietf:params:oauth:token-type:txn_token';
/** Transaction tokens live for seconds: one call chain (draft-ietf-oauth-transaction-tokens). */
const TXN_TTL_SECONDS = 60;
const INTROSPECTION_PATH = '/token/introspection';
const MAX_LOG = 10_000;

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as OidcServerConfig;
const defaultTtl = config.accessTokenTtlSeconds ?? 600;
const resources = new Map<string, OidcResourceConfig>(config.resources.map((r) => [r.identifier, r]));

/** Signing keys, newest first: oidc-provider signs with the first RS256 key and publishes all. */
const signingKeys: JsonWebKey[] = [newSigningKey()];
const requestLog: LoggedRequest[] = [];
let fault: IntrospectionFault = 'none';
/** While set, discovery and key-set requests get their connection cut: the issuer looks down to key fetchers. */
let keysDown = false;
let provider: Provider;
let handler: (req: IncomingMessage, res: ServerResponse) => void;

function newSigningKey(): JsonWebKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

// ---- the authorization server -------------------------------------------------

const server: Server = config.tls
  ? createHttpsServer({
      cert: config.tls.certPem,
      key: config.tls.keyPem,
      ca: config.tls.clientCaPem,
      // RFC 8705 §2: the AS asks for a certificate; whether one is needed is
      // the client's registered method, decided by oidc-provider per request.
      requestCert: true,
      rejectUnauthorized: false,
    })
  : createHttpServer();

server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  const path = (req.url ?? '/').split('?')[0]!;
  if (requestLog.length < MAX_LOG) requestLog.push({ method: req.method ?? '', path, accept: req.headers.accept ?? '' });
  if (path === INTROSPECTION_PATH && fault !== 'none') {
    injectFault(req, res, fault);
    return;
  }
  if (keysDown && (path === '/jwks' || path.startsWith('/.well-known/'))) {
    req.socket.destroy();
    return;
  }
  handler(req, res);
});

function injectFault(req: IncomingMessage, res: ServerResponse, f: IntrospectionFault): void {
  if (f !== 'ignore-jwt-accept') req.resume();
  switch (f) {
    case 'status-500':
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      return;
    case 'not-json':
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>maintenance</html>');
      return;
    case 'wrong-content-type':
      res.writeHead(200, { 'content-type': 'text/html' }).end('{"active":true}');
      return;
    case 'oversized':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: true, pad: 'x'.repeat(100 * 1024) }));
      return;
    case 'missing-active':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"scope":"read"}');
      return;
    case 'hang':
      // Never answer; the socket closes when the client gives up.
      return;
    case 'ignore-jwt-accept':
      // Behave like a server without RFC 9701: plain JSON whatever was asked.
      req.headers.accept = 'application/json';
      handler(req, res);
      return;
    case 'none':
      handler(req, res);
  }
}

function clientCertificatePem(ctx: KoaContextWithOidc): string | undefined {
  const socket = ctx.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  return new X509Certificate(cert.raw).toString();
}

function sanUris(pem: string): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

function resourceServerInfo(identifier: string): Record<string, unknown> {
  const r = resources.get(identifier);
  if (!r) throw new errors.InvalidTarget(`unknown resource ${identifier}`);
  return {
    scope: r.scope,
    audience: r.identifier,
    accessTokenFormat: r.format,
    accessTokenTTL: defaultTtl,
    ...(r.format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
  };
}

function buildProvider(issuer: string): Provider {
  const p = new Provider(issuer, {
    clients: config.clients,
    // Every scope a client or resource names; oidc-provider refuses unknown ones.
    scopes: [...new Set([...config.clients, ...config.resources].flatMap((c) => (c.scope ?? '').split(' ').filter(Boolean)))],
    jwks: { keys: signingKeys },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', ...(config.tls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : [])],
    ttl: { AccessToken: defaultTtl, ClientCredentials: defaultTtl, Grant: 3600, Session: 3600, Interaction: 600 },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    // Tokens minted by the control endpoint carry their claims in `extra`;
    // oidc-provider overwrites `extra` with this hook's result at save.
    extraTokenClaims: (_ctx: unknown, token: BaseToken) => token.extra,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      jwtIntrospection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf: unknown) => oneOf ?? undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, identifier: string) => resourceServerInfo(identifier),
      },
      mTLS: config.tls
        ? {
            enabled: true,
            certificateBoundAccessTokens: true,
            tlsClientAuth: true,
            selfSignedTlsClientAuth: true,
            getCertificate: clientCertificatePem,
            certificateAuthorized: (ctx: KoaContextWithOidc) => (ctx.socket as TLSSocket).authorized === true,
            certificateSubjectMatches: (ctx: KoaContextWithOidc, property: string, expected: string) => {
              const pem = clientCertificatePem(ctx);
              return property === 'tls_client_auth_san_uri' && pem !== undefined && sanUris(pem).includes(expected);
            },
          }
        : { enabled: false },
    },
  });
  p.registerGrantType(TOKEN_EXCHANGE, tokenExchange, [
    'subject_token',
    'subject_token_type',
    'requested_token_type',
    'audience',
    'resource',
    'scope',
    'actor_token',
    'actor_token_type',
  ]);
  p.on('server_error', (_ctx: unknown, err: unknown) => console.error('server_error', err));
  return p;
}

/**
 * The `sub` of an RFC 8693 `actor_token` (a JWT, e.g. a JWT-SVID), verified
 * with `config.actorJwks`: signature (RS256 or ES256), `exp` in the future,
 * and `aud` naming this issuer. Anything else is `invalid_request`.
 */
function actorSubject(token: string): string {
  const fail = (why: string): never => {
    throw new errors.InvalidRequest(`actor_token refused: ${why}`);
  };
  const keys = config.actorJwks?.keys ?? fail('this server has no actor keys');
  const parts = token.split('.');
  if (parts.length !== 3) fail('not a JWT');
  const decode = (s: string): Record<string, unknown> => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
  const header = decode(parts[0]!);
  const claims = decode(parts[1]!);
  const jwk = keys.find((k) => k['kid'] === header['kid']) ?? fail('unknown kid');
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2]!, 'base64url');
  const ok =
    header['alg'] === 'ES256'
      ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
      : header['alg'] === 'RS256'
        ? verify('sha256', data, key, sig)
        : fail('unsupported alg');
  if (!ok) fail('bad signature');
  if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 <= Date.now()) fail('expired');
  const aud = Array.isArray(claims['aud']) ? claims['aud'] : [claims['aud']];
  if (!aud.includes(provider.issuer)) fail('aud does not name this issuer');
  return typeof claims['sub'] === 'string' ? claims['sub'] : fail('no sub');
}

/**
 * RFC 8693 token exchange, reduced to what the sidecar needs: an active
 * access token (opaque or client credentials) in, an RFC 9068 JWT access
 * token for one known resource out, with the same subject, client, claims
 * and certificate binding, expiring no later than the subject token. A
 * `scope` narrows the subject token's scope (a scope it lacks is
 * `invalid_scope`); an `actor_token` adds `act: { sub }` (§4.1), nesting the
 * subject token's own `act` so the chain of actors is kept.
 */
async function tokenExchange(ctx: KoaContextWithOidc): Promise<void> {
  const { params } = ctx.oidc;
  if (params['subject_token_type'] !== TT_ACCESS_TOKEN) throw new errors.InvalidRequest('subject_token_type must be an access token');
  const requested = params['requested_token_type'] ?? TT_JWT;
  if (requested === TT_TXN) return transactionToken(ctx);
  if (requested !== TT_JWT && requested !== TT_ACCESS_TOKEN) throw new errors.InvalidRequest('unsupported requested_token_type');
  const subjectValue = String(params['subject_token'] ?? '');
  const subject = (await findActive(subjectValue)) ?? (await findExchanged(subjectValue));
  if (!subject) throw new errors.InvalidGrant('subject_token is not active');
  const audience = params['audience'] ?? params['resource'] ?? config.resources.find((r) => r.format === 'jwt')?.identifier;
  if (!audience || resources.get(audience)?.format !== 'jwt') throw new errors.InvalidTarget('audience is not a JWT resource');
  const client = await provider.Client.find(subject.clientId ?? '');
  if (!client) throw new errors.InvalidGrant('subject_token client is gone');
  const held = new Set((subject.scope ?? '').split(' ').filter(Boolean));
  const asked = params['scope'] === undefined ? undefined : String(params['scope']).split(' ').filter(Boolean);
  if (asked !== undefined && !asked.every((s) => held.has(s))) throw new errors.InvalidScope('scope is wider than the subject token', String(params['scope']));
  let extra = subject.extra as Record<string, unknown> | undefined;
  if (params['actor_token'] !== undefined) {
    if (params['actor_token_type'] !== TT_JWT) throw new errors.InvalidRequest('actor_token_type must be a JWT');
    const prior = extra?.['act'];
    extra = { ...extra, act: { sub: actorSubject(String(params['actor_token'])), ...(prior !== undefined ? { act: prior } : {}) } };
  }
  const remaining = (subject.exp ?? 0) - Math.floor(Date.now() / 1000);
  const token = new provider.AccessToken({
    client,
    accountId: subject.accountId,
    scope: asked !== undefined ? asked.join(' ') : subject.scope,
    extra,
    'x5t#S256': subject['x5t#S256'],
    expiresIn: Math.max(1, Math.min(defaultTtl, remaining)),
  });
  token.resourceServer = new provider.ResourceServer(audience, resourceServerInfo(audience));
  const value = await token.save();
  rememberExchanged(token.jti, subject, subjectValue, { accountId: subject.accountId, clientId: subject.clientId, scope: asked !== undefined ? asked.join(' ') : subject.scope, extra, 'x5t#S256': subject['x5t#S256'], exp: Math.floor(Date.now() / 1000) + Math.max(1, Math.min(defaultTtl, remaining)) });
  ctx.body = { access_token: value, issued_token_type: requested, token_type: 'Bearer', expires_in: Math.max(1, Math.min(defaultTtl, remaining)) };
}

/** What an exchange needs to know of its subject token. */
interface SubjectToken {
  readonly accountId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly scope?: string | undefined;
  readonly extra?: unknown;
  readonly 'x5t#S256'?: string | undefined;
  readonly exp?: number | undefined;
}

/** A JWT this server issued by exchange: what it said, and the stored token the chain started from. */
interface ExchangedToken extends SubjectToken {
  readonly root: string;
}

const MAX_EXCHANGED = 10_000;
/** JWT access tokens are not stored by oidc-provider; exchanged ones are remembered here by `jti`. */
const exchanged = new Map<string, ExchangedToken>();

function rememberExchanged(jti: string | undefined, subject: SubjectToken, subjectValue: string, issued: SubjectToken): void {
  if (jti === undefined) return;
  const root = (subject as Partial<ExchangedToken>).root ?? subjectValue;
  if (exchanged.size >= MAX_EXCHANGED) exchanged.delete(exchanged.keys().next().value!);
  exchanged.set(jti, { ...issued, root });
}

/**
 * A JWT access token this server issued by token exchange, so a chain of
 * hops can exchange again (RFC 8693 §2.1 allows any token the server
 * understands as `subject_token`): RS256 signature by one of our keys, our
 * `iss`, `exp` in the future, a `jti` we issued, and the stored token the
 * chain started from still active, so revoking that token stops every
 * token derived from it at its next exchange.
 */
async function findExchanged(value: string): Promise<ExchangedToken | undefined> {
  const parts = value.split('.');
  if (parts.length !== 3) return undefined;
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const jwk = signingKeys.find((k) => k.kid === header['kid']);
  if (!jwk || header['alg'] !== 'RS256') return undefined;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey({ key: publicJwk, format: 'jwk' }), Buffer.from(parts[2]!, 'base64url'))) return undefined;
  if (claims['iss'] !== provider.issuer || typeof claims['exp'] !== 'number' || claims['exp'] * 1000 <= Date.now()) return undefined;
  const found = typeof claims['jti'] === 'string' ? exchanged.get(claims['jti']) : undefined;
  if (!found || !(await findActive(found.root))) return undefined;
  return found;
}

/**
 * The Transaction Token Service (draft-ietf-oauth-transaction-tokens): an
 * active user token in, a short-lived signed JWT out (`typ` txntoken+jwt),
 * with a unique `txn`, the user's `sub` and (narrowed) `scope`, `aud` the
 * trust domain the caller named, `tctx` (the transaction's context: the
 * requesting client and the user's client) and `rctx` (the requester:
 * `req_wl`, the workload that asked). `token_type` is N_A: it is not an
 * access token and travels in the Txn-Token header, never Authorization.
 */
async function transactionToken(ctx: KoaContextWithOidc): Promise<void> {
  const { params } = ctx.oidc;
  const subject = await findActive(params['subject_token'] ?? '');
  if (!subject) throw new errors.InvalidGrant('subject_token is not active');
  const audience = params['audience'];
  if (typeof audience !== 'string' || audience === '') throw new errors.InvalidTarget('a transaction token needs the trust domain as audience');
  const held = new Set((subject.scope ?? '').split(' ').filter(Boolean));
  const asked = params['scope'] === undefined ? undefined : String(params['scope']).split(' ').filter(Boolean);
  if (asked !== undefined && !asked.every((s) => held.has(s))) throw new errors.InvalidScope('scope is wider than the subject token', String(params['scope']));
  const now = Math.floor(Date.now() / 1000);
  const ttl = Math.max(1, Math.min(TXN_TTL_SECONDS, (subject.exp ?? 0) - now));
  const requester = ctx.oidc.client?.clientId ?? '';
  const claims = {
    iss: provider.issuer,
    iat: now,
    exp: now + ttl,
    aud: audience,
    txn: randomUUID(),
    sub: subject.accountId ?? subject.clientId,
    scope: asked !== undefined ? asked.join(' ') : (subject.scope ?? ''),
    tctx: { client_id: subject.clientId, ...(subject.extra as Record<string, unknown> | undefined) },
    rctx: { req_wl: requester },
  };
  const key = signingKeys[0]!;
  const header = { alg: 'RS256', typ: 'txntoken+jwt', kid: key.kid };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), createPrivateKey({ key, format: 'jwk' })).toString('base64url');
  ctx.body = { access_token: `${input}.${signature}`, issued_token_type: TT_TXN, token_type: 'N_A', expires_in: ttl };
}

async function findActive(value: string): Promise<BaseToken | undefined> {
  const found = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value)) ?? (await findJwt(value));
  if (!found || !found.isValid) return undefined;
  if (found.grantId && !(await provider.Grant.find(found.grantId))) return undefined;
  return found;
}

/**
 * A JWT access token this server issued, found by its `jti` once its
 * signature checks out with one of our keys (the store keeps JWT access
 * tokens under their `jti`, so revocation still applies).
 */
async function findJwt(value: string): Promise<BaseToken | undefined> {
  const parts = value.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const jwk = signingKeys.find((k) => k.kid === header['kid']);
    if (jwk === undefined || header['alg'] !== 'RS256' || typeof claims['jti'] !== 'string') return undefined;
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'))) return undefined;
    if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 <= Date.now() || claims['iss'] !== provider.issuer) return undefined;
    const stored = await provider.AccessToken.find(claims['jti']);
    if (stored !== undefined) return stored;
    // A token this server issued by exchange is judged by findExchanged,
    // which also requires the token the chain started from to be active:
    // that is how a revocation reaches every token derived from it.
    if (exchanged.has(claims['jti'])) return undefined;
    // oidc-provider keeps no copy of a JWT access token: read what the exchange needs from its verified claims.
    const { jti: _jti, sub, iat: _iat, exp, scope, client_id: clientId, iss: _iss, aud: _aud, cnf, ...extra } = claims;
    const x5t = (cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
    return { accountId: sub, clientId, scope, exp, extra, 'x5t#S256': x5t, isValid: true } as unknown as BaseToken;
  } catch {
    return undefined;
  }
}

// ---- control endpoint ---------------------------------------------------------

async function issueToken(r: IssueTokenRequest): Promise<string> {
  const client = await provider.Client.find(r.clientId);
  if (!client) throw new Error(`unknown client ${r.clientId}`);
  const fields: Record<string, unknown> = { client, scope: r.scope, extra: r.claims ? { ...r.claims } : undefined };
  if (r.expiresInSeconds !== undefined) fields['expiresIn'] = r.expiresInSeconds;
  if (r.x5tS256 !== undefined) fields['x5t#S256'] = r.x5tS256;
  let token: BaseToken;
  if (r.subject === undefined && r.format === 'opaque') {
    token = new provider.ClientCredentials(fields);
  } else {
    if (r.subject !== undefined) {
      // Introspection only answers for a user's token while its grant exists.
      const grant = new provider.Grant({ accountId: r.subject, clientId: r.clientId });
      if (r.scope) grant.addOIDCScope(r.scope);
      fields['grantId'] = await grant.save();
      fields['accountId'] = r.subject;
    }
    token = new provider.AccessToken(fields);
  }
  if (r.format === 'jwt') {
    if (!r.audience || resources.get(r.audience)?.format !== 'jwt') throw new Error('a jwt token needs the audience of a jwt resource');
    token.resourceServer = new provider.ResourceServer(r.audience, resourceServerInfo(r.audience));
  } else if (r.audience !== undefined) {
    token.setAudience(r.audience);
  }
  return token.save();
}

async function revokeToken(value: string): Promise<boolean> {
  const found = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
  if (!found) return false;
  await found.destroy();
  return true;
}

function rotateKeys(): string {
  const key = newSigningKey();
  signingKeys.unshift(key);
  // oidc-provider reads its key set once; a new instance over the same
  // (module-wide) memory store takes over the listening socket.
  provider = buildProvider(provider.issuer);
  handler = provider.callback();
  return key.kid as string;
}

const FAULTS = new Set<IntrospectionFault>(['none', 'status-500', 'not-json', 'oversized', 'hang', 'missing-active', 'wrong-content-type', 'ignore-jwt-accept']);

async function control(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
  const reply = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
  const route = `${req.method} ${req.url}`;
  switch (route) {
    case 'POST /tokens':
      return reply(200, { token: await issueToken(body as unknown as IssueTokenRequest) });
    case 'POST /revoke':
      return reply(200, { revoked: await revokeToken(String(body['token'])) });
    case 'POST /rotate-keys':
      return reply(200, { kid: rotateKeys() });
    case 'GET /log':
      return reply(200, { requests: requestLog });
    case 'POST /log/reset':
      requestLog.length = 0;
      return reply(200, {});
    case 'POST /keys-down':
      keysDown = body['down'] === true;
      return reply(200, {});
    case 'POST /fault': {
      const f = body['introspection'] as IntrospectionFault;
      if (!FAULTS.has(f)) return reply(400, { error: `unknown fault ${String(f)}` });
      fault = f;
      return reply(200, {});
    }
    default:
      return reply(404, { error: `no route ${route}` });
  }
}

const controlServer = createHttpServer((req, res) => {
  control(req, res).catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
  });
});

server.on('clientError', (_err, socket) => socket.destroy());
controlServer.on('clientError', (_err, socket) => socket.destroy());

function listen(s: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
  });
}

const port = await listen(server);
const issuer = `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
provider = buildProvider(issuer);
handler = provider.callback();
const controlPort = await listen(controlServer);

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.closeAllConnections();
    controlServer.closeAllConnections();
    server.close();
    controlServer.close();
    process.exit(0);
  });
}

console.log(`${READY_PREFIX}${JSON.stringify({ issuer, controlPort })}`);
