/**
 * SPIRE's OIDC Discovery Provider (the pinned build from install-spire.sh)
 * for tests: it reads a trust domain's JWT keys from a Workload API socket
 * (the embedded dev agent's or a real SPIRE agent's) and serves them as an
 * OpenID Connect issuer, `/.well-known/openid-configuration` and `/keys`,
 * over plain HTTP on 127.0.0.1:<port>.
 *
 * Plain HTTP needs `insecure_addr` plus `allow_insecure_scheme` (without the
 * latter the discovery document would name https URLs). `domains` is the
 * allow-list of request hosts, so it holds 127.0.0.1. Without `jwt_issuer`
 * the provider names the issuer after the request's Host header
 * (`http://127.0.0.1:<port>`); with it, the configured value.
 *
 * Pass the test context (or node:test's `after`) as `cleanup`: the process
 * is stopped and its folder removed even when the test fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import { freePorts } from './sidecar-harness.ts';
import { installSpire } from './spire.ts';
import type { Cleanup } from './dev-agent-harness.ts';
import { Teardown } from './teardown.ts';

/** Options of {@link startOidcDiscoveryProvider}. */
export interface OidcDiscoveryProviderOptions {
  readonly cleanup: Cleanup;
  /** Path of the Workload API Unix socket the provider reads JWT bundles from. */
  readonly workloadApiSocket: string;
  /** Trust domain whose JWT bundle becomes the key set. */
  readonly trustDomain: string;
  /** Port to listen on (127.0.0.1); default a free one. Pick it first when the issuer URL must be known in advance. */
  readonly port?: number;
  /** `jwt_issuer`: the issuer the discovery document names; default none (derived from the Host header). */
  readonly jwtIssuer?: string;
  /** How often the provider re-reads the bundle (Go duration); default `1s` so key changes show quickly. */
  readonly pollInterval?: string;
  /** Bound on the wait until `/keys` serves a key set; default 30 s. */
  readonly readyTimeoutMs?: number;
}

/** A running OIDC Discovery Provider. */
export interface OidcDiscoveryProvider {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The `issuer` its discovery document names (as read once it was ready). */
  readonly issuer: string;
  /** The `jwks_uri` its discovery document names. */
  readonly jwksUri: string;
  readonly process: LoggedProcess;
  /** The `kid`s of the key set it serves now. */
  keyIds(): Promise<string[]>;
  /** Stops the process and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** Renders the provider's HCL configuration. */
export function renderProviderConfig(o: { port: number; socketPath: string; trustDomain: string; jwtIssuer?: string; pollInterval: string }): string {
  const lines = [
    'log_level = "debug"',
    'domains = ["127.0.0.1"]',
    `insecure_addr = "127.0.0.1:${o.port}"`,
    'allow_insecure_scheme = true',
  ];
  if (o.jwtIssuer !== undefined) lines.push(`jwt_issuer = ${JSON.stringify(o.jwtIssuer)}`);
  lines.push(
    'workload_api {',
    `  socket_path = ${JSON.stringify(o.socketPath)}`,
    `  trust_domain = ${JSON.stringify(o.trustDomain)}`,
    `  poll_interval = ${JSON.stringify(o.pollInterval)}`,
    '}',
    '',
  );
  return lines.join('\n');
}

/** Builds (once, with SPIRE) and locates the provider binary. */
export async function oidcDiscoveryProviderBinary(): Promise<string> {
  const { serverBin } = await installSpire();
  return join(dirname(serverBin), 'oidc-discovery-provider');
}

/** Starts the provider and waits until its discovery document and a non-empty key set are served. */
export async function startOidcDiscoveryProvider(o: OidcDiscoveryProviderOptions): Promise<OidcDiscoveryProvider> {
  const binary = await oidcDiscoveryProviderBinary();
  const teardown = new Teardown();
  o.cleanup.after(() => teardown.run());
  const dir = mkdtempSync(join(tmpdir(), 'oidc-dp-'));
  teardown.add('remove oidc-discovery-provider folder', () => rmSync(dir, { recursive: true, force: true }));
  const port = o.port ?? (await freePorts(1))[0]!;
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'oidc-discovery-provider.conf');
  writeFileSync(
    configFile,
    renderProviderConfig({
      port,
      socketPath: o.workloadApiSocket,
      trustDomain: o.trustDomain,
      pollInterval: o.pollInterval ?? '1s',
      ...(o.jwtIssuer === undefined ? {} : { jwtIssuer: o.jwtIssuer }),
    }),
  );
  const proc = startLogged({
    name: 'oidc-discovery-provider',
    argv: [binary, '-config', configFile],
    cwd: dir,
    logFile: join(dir, 'oidc-discovery-provider.log'),
    teardown,
  });

  try {
    const doc = await waitServing(url, proc, o.readyTimeoutMs ?? 30_000);
    return {
      url,
      port,
      issuer: doc.issuer,
      jwksUri: doc.jwks_uri,
      process: proc,
      keyIds: async () => ((await getJson(`${url}/keys`)).body as { keys: { kid?: string }[] }).keys.map((k) => k.kid ?? ''),
      stop: () => teardown.run(),
    };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/** Polls the discovery document and `/keys` every 200 ms until both answer 200; fails early when the process exits. */
async function waitServing(url: string, proc: LoggedProcess, timeoutMs: number): Promise<{ issuer: string; jwks_uri: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc.exited()) throw new Error(`oidc-discovery-provider exited before serving keys:\n${proc.tail()}`);
    try {
      const doc = await getJson(`${url}/.well-known/openid-configuration`);
      const keys = await getJson(`${url}/keys`);
      if (doc.status === 200 && keys.status === 200) return doc.body as { issuer: string; jwks_uri: string };
      last = `discovery ${doc.status}, keys ${keys.status}: ${JSON.stringify(keys.body).slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new Error(`oidc-discovery-provider not serving keys after ${timeoutMs} ms (${last}):\n${proc.tail()}`);
}
