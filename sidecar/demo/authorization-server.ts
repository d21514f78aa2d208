import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, writeFileSync, type WriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SidecarError } from '../core/index.ts';
import { httpCall } from './http-call.ts';

/**
 * Why the demo's authorization server failed:
 * - 'demo.authorization_server_start': it exited, or printed no ready line in time;
 * - 'demo.authorization_server_control': its control endpoint refused a request.
 */
export type AuthorizationServerErrorCode = 'demo.authorization_server_start' | 'demo.authorization_server_control';

/** Raised by {@link AuthorizationServer}; the message ends with the last lines the child printed when that helps. */
export class AuthorizationServerError extends SidecarError {
  declare readonly code: AuthorizationServerErrorCode;

  constructor(code: AuthorizationServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A client registered at the authorization server (RFC 7591 metadata
 * names), the shape examples/authorization-server/config.ts declares. The
 * demo cannot import that file: it lies outside the compiled sources.
 */
export interface AuthorizationServerClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post';
  readonly grant_types: readonly string[];
  readonly scope: string;
}

/** A resource server (RFC 8707) and the format of the access tokens issued for it. */
export interface AuthorizationServerResource {
  readonly identifier: string;
  readonly scope: string;
  readonly format: 'jwt' | 'opaque';
}

/** A token minted directly in the server's store (its control endpoint's `POST /tokens`). */
export interface MintTokenRequest {
  readonly format: 'opaque' | 'jwt';
  readonly clientId: string;
  readonly subject: string;
  /** Required for a JWT (a `jwt` resource); an opaque token without one has no `aud`. */
  readonly audience?: string;
  readonly scope?: string;
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly expiresInSeconds?: number;
}

/** Options of {@link AuthorizationServer.start}. */
export interface AuthorizationServerOptions {
  /** The node binary. */
  readonly execPath: string;
  /** The checkout's root: where examples/ and node_modules/ are. */
  readonly projectRoot: string;
  /** Where its configuration (secrets inside: mode 0600) and its log go. */
  readonly dir: string;
  /** The child's whole environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clients: readonly AuthorizationServerClient[];
  readonly resources: readonly AuthorizationServerResource[];
  /**
   * A JWK Set (JSON text: a trust domain's JWT bundle) that verifies RFC 8693
   * `actor_token`s; without it the server refuses exchanges with an actor token.
   */
  readonly actorJwks?: string;
  /** How long to wait for its ready line (default 30 s). */
  readonly readyTimeoutMs?: number;
}

/** The ready line's prefix, then JSON `{ issuer, controlPort }` (examples/authorization-server/config.ts). */
const READY_PREFIX = 'OIDC_PROVIDER_READY ';
const STOP_GRACE_MS = 5_000;
const KEPT_LINES = 20;

/** examples/authorization-server/server.ts under `projectRoot`. */
export function authorizationServerScript(projectRoot: string): string {
  return join(projectRoot, 'examples', 'authorization-server', 'server.ts');
}

/**
 * Why the authorization server cannot run here, or undefined when it can:
 * an installed package ships neither the example server nor the
 * oidc-provider package (a development dependency).
 */
export function authorizationServerUnavailable(projectRoot: string): string | undefined {
  if (!existsSync(authorizationServerScript(projectRoot))) return 'examples/authorization-server/ is not here (only a checkout has it)';
  try {
    createRequire(join(projectRoot, 'package.json')).resolve('oidc-provider');
  } catch {
    return 'the npm package oidc-provider (a development dependency) is not installed; `npm ci` in a checkout installs it';
  }
  return undefined;
}

/**
 * A real OAuth 2.0 authorization server for the demo: the oidc-provider
 * package run by examples/authorization-server/server.ts as a child process
 * on 127.0.0.1 (discovery, JWKS, RFC 7662 introspection, RFC 8693 token
 * exchange), plus its loopback
 * control endpoint, used here to mint tokens for the demo's users.
 */
export class AuthorizationServer {
  /** The issuer (`http://127.0.0.1:PORT`); plain http is accepted by the sidecar only on loopback. */
  readonly issuer: string;
  readonly #child: ChildProcess;
  readonly #controlPort: number;
  readonly #exited: Promise<void>;

  private constructor(issuer: string, controlPort: number, child: ChildProcess, exited: Promise<void>) {
    this.issuer = issuer;
    this.#controlPort = controlPort;
    this.#child = child;
    this.#exited = exited;
  }

  /** Starts the child and resolves once it listens; on failure the child is stopped and the error says why. */
  static async start(o: AuthorizationServerOptions): Promise<AuthorizationServer> {
    const configFile = join(o.dir, 'authorization-server.json');
    // No redirect URIs and no response types: these clients never use a browser flow.
    const clients = o.clients.map((c) => ({ ...c, redirect_uris: [], response_types: [] }));
    const actorJwks = o.actorJwks === undefined ? {} : { actorJwks: parseJwks(o.actorJwks) };
    writeFileSync(configFile, JSON.stringify({ clients, resources: o.resources, ...actorJwks }), { mode: 0o600 });
    const log = createWriteStream(join(o.dir, 'authorization-server.log'), { flags: 'a' });
    log.on('error', () => {});
    const child = spawn(o.execPath, ['--disable-warning=ExperimentalWarning', authorizationServerScript(o.projectRoot), configFile], {
      cwd: o.projectRoot,
      env: o.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('close', () => log.end());
    const recent: string[] = [];
    const keep = (line: string): void => {
      log.write(line + '\n');
      recent.push(line);
      if (recent.length > KEPT_LINES) recent.shift();
    };
    createInterface({ input: child.stderr! }).on('line', keep);
    try {
      const ready = await readyLine(child, keep, o.readyTimeoutMs ?? 30_000, () => recent.join('\n'));
      return new AuthorizationServer(ready.issuer, ready.controlPort, child, exited);
    } catch (err) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      throw err;
    }
  }

  /** The token endpoint (RFC 6749 §3.2), where RFC 8693 token exchanges go. */
  get tokenEndpoint(): string {
    return `${this.issuer}/token`;
  }

  /** The RFC 7662 introspection endpoint. */
  get introspectionEndpoint(): string {
    return `${this.issuer}/token/introspection`;
  }

  /** Mints a token for `r.subject` in the server's store and resolves with it. */
  async mintToken(r: MintTokenRequest): Promise<string> {
    const res = await httpCall(this.#controlPort, '/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(r),
      timeoutMs: 5_000,
    });
    let answer: { token?: unknown; error?: unknown } = {};
    try {
      answer = JSON.parse(res.body) as typeof answer;
    } catch {
      // reported below
    }
    if (res.status !== 200 || typeof answer.token !== 'string') {
      throw new AuthorizationServerError('demo.authorization_server_control', `authorization server: minting a token (${r.format}) failed: ${res.status} ${String(answer.error ?? '')}`);
    }
    return answer.token;
  }

  /** SIGTERM, SIGKILL after a grace period; resolves once the child exited. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** The actor key set as JSON, or a typed error saying it is not one. */
function parseJwks(text: string): { keys: unknown[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AuthorizationServerError('demo.authorization_server_start', 'authorization server: the actor key set is not JSON', { cause: err });
  }
  const keys = parsed !== null && typeof parsed === 'object' ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new AuthorizationServerError('demo.authorization_server_start', 'authorization server: the actor key set has no "keys" array');
  return { keys };
}

interface ReadyPayload {
  readonly issuer: string;
  readonly controlPort: number;
}

/** Resolves with the ready line's payload; stdout lines go to `keep` as well. */
function readyLine(child: ChildProcess, keep: (line: string) => void, timeoutMs: number, tail: () => string): Promise<ReadyPayload> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new AuthorizationServerError('demo.authorization_server_start', `authorization server: ${why}; last lines:\n${tail()}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    // `on`, not `once`: a later 'error' (a failed kill) must not go unhandled.
    child.on('error', (err) => fail(`cannot start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      if (!line.startsWith(READY_PREFIX)) return;
      try {
        const p = JSON.parse(line.slice(READY_PREFIX.length)) as Partial<ReadyPayload>;
        if (typeof p.issuer !== 'string' || typeof p.controlPort !== 'number') return fail('its ready line lacks issuer or controlPort');
        clearTimeout(timer);
        resolve({ issuer: p.issuer, controlPort: p.controlPort });
      } catch {
        fail('its ready line is not JSON');
      }
    });
  });
}
