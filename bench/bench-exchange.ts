/**
 * The authorization server of the exchange row: the real oidc-provider with
 * its RFC 8693 grant (examples/authorization-server, started through
 * test/support/oidc-provider.ts) on loopback, for the whole run of the
 * sidecar-h1 family. The client-side sidecar exchanges the row's subject
 * token there once; every later request is a cache hit, which is what the
 * row measures against the plain one.
 */
import { JWT_RESOURCE, OPAQUE_RESOURCE, startOidcProvider, type OidcProvider } from '../test/support/oidc-provider.ts';

/** Host the exchange route matches (the load generator sends it as Host). */
export const EXCHANGE_HOST = 'exchange.bench.test';
/** Audience the exchanged token is made for, accepted by the server side. */
export const EXCHANGE_AUDIENCE = JWT_RESOURCE;

/** A running authorization server and what the configs and the load need from it. */
export interface BenchExchange {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecretFile: string;
  /** The opaque user token every request of the row carries. */
  readonly subjectToken: string;
  stop(): Promise<void>;
}

/** Starts the server, mints the row's subject token; tokens live a day, so the cache stays warm through any run. */
export async function startBenchExchange(): Promise<BenchExchange> {
  const as: OidcProvider = await startOidcProvider({ accessTokenTtlSeconds: 86_400 });
  try {
    const subjectToken = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'bench-user', audience: OPAQUE_RESOURCE, scope: 'read', expiresInSeconds: 86_400 });
    return {
      issuer: as.issuer,
      tokenEndpoint: as.tokenEndpoint,
      clientId: as.clients.sidecar.id,
      clientSecretFile: as.writeSecretFile('exchange.secret', as.clients.sidecar.secret!),
      subjectToken,
      stop: () => as.stop(),
    };
  } catch (err) {
    await as.stop();
    throw err;
  }
}

/** The client config's extra route (token mode exchange) and `outbound.tokenExchange`, as YAML under `outbound.upstreams`. */
export function exchangeClientYaml(x: BenchExchange | undefined, inboundPort: number, serverId: string): string {
  if (x === undefined) return '';
  return [
    `    - host: ${EXCHANGE_HOST}`,
    `      address: 127.0.0.1:${inboundPort}`,
    `      serverId: ${serverId}`,
    '      protocol: http1',
    '      token:',
    '        mode: exchange',
    `        audience: ${EXCHANGE_AUDIENCE}`,
    '  tokenExchange:',
    `    endpoint: ${x.tokenEndpoint}`,
    '    clientAuth:',
    '      method: client_secret_basic',
    `      clientId: ${x.clientId}`,
    `      clientSecretFile: ${x.clientSecretFile}`,
  ].join('\n');
}

/** The server config's extra JWT provider: the authorization server's tokens for {@link EXCHANGE_AUDIENCE}, keys by discovery. */
export function exchangeServerYaml(x: BenchExchange | undefined): string {
  if (x === undefined) return '';
  return [`    - name: bench-exchanged`, `      issuer: ${x.issuer}`, '      discovery: true', `      audiences: [${EXCHANGE_AUDIENCE}]`].join('\n');
}
