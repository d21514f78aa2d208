/**
 * What the test harness (test/support/oidc-provider.ts) tells the child
 * authorization server (server.ts) through a JSON file, and what the child's
 * loopback control endpoint accepts and answers. Shared types only.
 */

/** One statically registered OAuth client (RFC 7591 metadata names). */
export interface OidcClientConfig {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'tls_client_auth' | 'self_signed_tls_client_auth';
  readonly grant_types: readonly string[];
  /** Space-separated scopes the client may ask for. */
  readonly scope?: string;
  /** RFC 8705 §2.1.2: the SAN URI (a SPIFFE ID here) a tls_client_auth client's certificate must carry. */
  readonly tls_client_auth_san_uri?: string;
  /** RFC 8705 §3.4: bind access tokens issued over mTLS to the client certificate. */
  readonly tls_client_certificate_bound_access_tokens?: boolean;
  /** RFC 9701 §6: sign JWT introspection responses for this client with this alg. */
  readonly introspection_signed_response_alg?: string;
  /** A JWK Set with the client's certificate in `x5c` (self_signed_tls_client_auth, RFC 8705 §2.2). */
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  readonly redirect_uris?: readonly string[];
  readonly response_types?: readonly string[];
}

/** A resource server (RFC 8707 resource indicator) and the format of the access tokens issued for it. */
export interface OidcResourceConfig {
  readonly identifier: string;
  readonly scope: string;
  /** 'jwt' = RFC 9068 `at+jwt` access tokens, 'opaque' = random handles only introspection understands. */
  readonly format: 'jwt' | 'opaque';
}

/** The child's configuration file. */
export interface OidcServerConfig {
  readonly clients: readonly OidcClientConfig[];
  readonly resources: readonly OidcResourceConfig[];
  /** When present the authorization server listens with TLS and asks for (but does not require) a client certificate. */
  readonly tls?: {
    readonly certPem: string;
    readonly keyPem: string;
    /** CAs a tls_client_auth certificate must chain to (RFC 8705 §2.1). */
    readonly clientCaPem: string;
  };
  /** Access token lifetime in seconds when a request does not say (default 600). */
  readonly accessTokenTtlSeconds?: number;
  /**
   * Keys (a JWK Set, e.g. a SPIFFE trust domain's JWT bundle) that verify
   * RFC 8693 `actor_token`s; without it a token exchange with an actor
   * token is refused.
   */
  readonly actorJwks?: { readonly keys: readonly Record<string, unknown>[] };
}

/** The line the child prints once both servers listen (prefix, then JSON). */
export const READY_PREFIX = 'OIDC_PROVIDER_READY ';

/** Payload of the ready line. */
export interface OidcReady {
  readonly issuer: string;
  readonly controlPort: number;
}

/**
 * A fault the control endpoint can make the introspection endpoint show
 * (tests of fail-closed behaviour). 'ignore-jwt-accept' answers plain JSON
 * even when RFC 9701 JWT responses are asked for.
 */
export type IntrospectionFault = 'none' | 'status-500' | 'not-json' | 'oversized' | 'hang' | 'missing-active' | 'wrong-content-type' | 'ignore-jwt-accept';

/** POST /tokens: mint a token directly in the provider's store. */
export interface IssueTokenRequest {
  /** 'opaque' (introspectable handle) or 'jwt' (RFC 9068 at+jwt, needs `audience`). */
  readonly format: 'opaque' | 'jwt';
  readonly clientId: string;
  /** End-user subject; absent = a client-credentials token (no `sub` in introspection). */
  readonly subject?: string;
  readonly scope?: string;
  readonly audience?: string;
  /** Extra claims carried by the token (and by its introspection response). */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly expiresInSeconds?: number;
  /** RFC 8705 §3.1 `cnf.x5t#S256` (base64url SHA-256 of a certificate) to bind the token to. */
  readonly x5tS256?: string;
}

/** One request the authorization server received, as the control endpoint reports it. */
export interface LoggedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly accept: string;
}
