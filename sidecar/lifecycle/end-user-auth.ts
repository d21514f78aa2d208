import { readFileSync } from 'node:fs';
import {
  IntrospectionVerifier,
  TokenAuthenticator,
  type AuthObserver,
  type IntrospectionClientAuth,
  type IntrospectionObserver,
  type JwtProviderOptions,
} from '../auth/index.ts';
import type { JwtBundle, JwtBundleSource } from '../bundle/index.ts';
import type { AuthConfig } from '../config/index.ts';
import { describeError, type Clock, type Logger } from '../core/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import { AppError } from './app-error.ts';

/** The JWT bundles of the Workload API, once a JwtSource is attached; none before. */
export class JwtBundleHolder implements JwtBundleSource {
  #source: JwtBundleSource | undefined;

  /** Attaches the live source (a workload JwtSource). */
  set(source: JwtBundleSource): void {
    this.#source = source;
  }

  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle | undefined {
    return this.#source?.getJwtBundleForTrustDomain(td);
  }
}

/** What {@link EndUserAuth.build} needs besides the configuration. */
export interface EndUserAuthDeps {
  /** The sidecar's own SVID, presented to the introspection endpoint with `tls_client_auth` (RFC 8705 §2). */
  readonly identity: X509SvidSource;
  readonly jwtBundles: JwtBundleSource;
  readonly observer: AuthObserver & IntrospectionObserver;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Reads a file named by the configuration (tests pass their own). */
  readonly readFile?: (path: string) => string;
}

function readConfigured(read: (p: string) => string, path: string, key: string): string {
  try {
    return read(path);
  } catch (err) {
    throw new AppError('app.auth', `app: ${key} ${path} cannot be read: ${describeError(err)}`, { cause: err });
  }
}

/**
 * End-user authentication as the configuration describes it: the token
 * authenticator with its JWT providers and the introspection verifier for
 * opaque tokens, and the readiness rule for their keys. Building does no
 * network I/O; {@link start} begins the first key fetches.
 */
export class EndUserAuth {
  readonly authenticator: TokenAuthenticator;
  /** True when any JWT provider reads the Workload API's JWT bundles. */
  readonly needsJwtBundles: boolean;
  readonly #introspection: IntrospectionVerifier | undefined;
  readonly #readyTimeoutMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #startedAt = 0;
  #gaveUpWaiting = false;

  private constructor(authenticator: TokenAuthenticator, introspection: IntrospectionVerifier | undefined, needsJwtBundles: boolean, c: AuthConfig, d: EndUserAuthDeps) {
    this.authenticator = authenticator;
    this.#introspection = introspection;
    this.needsJwtBundles = needsJwtBundles;
    this.#readyTimeoutMs = c.readyTimeoutMs;
    this.#clock = d.clock;
    this.#logger = d.logger;
  }

  /** Builds from validated configuration; throws AppError `app.auth` naming an unreadable file or a refused option. */
  static build(c: AuthConfig, d: EndUserAuthDeps): EndUserAuth {
    const read = d.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
    const logger = d.logger.child({ component: 'auth' });
    const providers: JwtProviderOptions[] = c.jwt.map(({ caFile, ...p }, i) =>
      caFile === undefined ? p : { ...p, ca: readConfigured(read, caFile, `auth.jwt[${i}].caFile`) },
    );
    let introspection: IntrospectionVerifier | undefined;
    try {
      if (c.introspection !== null) {
        const { caFile, clientAuth, ...rest } = c.introspection;
        const auth: IntrospectionClientAuth =
          'clientSecretFile' in clientAuth
            ? clientAuth
            : {
                ...clientAuth,
                // Read per call, so a rotated SVID is what the next connection presents.
                clientCertificate: () => {
                  const svid = d.identity.getX509Svid();
                  return { certChainPem: svid.certChainPem(), keyPem: svid.privateKeyPem() };
                },
              };
        introspection = new IntrospectionVerifier(
          { ...rest, clientAuth: auth, ...(caFile !== undefined ? { ca: readConfigured(read, caFile, 'auth.introspection.caFile') } : {}) },
          { clock: d.clock, logger, observer: d.observer },
        );
      }
      const authenticator = new TokenAuthenticator(
        { providers },
        { clock: d.clock, logger, observer: d.observer, jwtBundles: d.jwtBundles, ...(introspection ? { opaque: introspection } : {}) },
      );
      return new EndUserAuth(authenticator, introspection, providers.some((p) => p.workloadApi === true), c, d);
    } catch (err) {
      void introspection?.close();
      if (err instanceof AppError) throw err;
      throw new AppError('app.auth', `app: end-user authentication cannot start: ${describeError(err)}`, { cause: err });
    }
  }

  /** Starts the first key fetches in the background. */
  start(): void {
    this.#startedAt = this.#clock.now();
    this.authenticator.start();
  }

  /**
   * Why `/readyz` must wait: providers whose first key set has not arrived,
   * for at most `auth.readyTimeout` after start. Past it the sidecar
   * reports ready (tokens for those issuers get 503 until their keys
   * come) and says so once at warn, so one unreachable issuer cannot keep
   * every workload out of service.
   */
  readinessReasons(): string[] {
    if (this.#gaveUpWaiting) return [];
    const waiting = this.authenticator.status().filter((s) => !s.ready);
    if (waiting.length === 0) return [];
    if (this.#clock.now() - this.#startedAt >= this.#readyTimeoutMs) {
      this.#gaveUpWaiting = true;
      this.#logger.warn(
        { providers: waiting.map((s) => s.provider), errors: waiting.map((s) => s.lastError ?? 'no answer yet') },
        'token keys still missing after auth.readyTimeout: ready anyway; tokens of these issuers get 503 until their keys arrive',
      );
      return [];
    }
    return waiting.map((s) => `token keys for provider ${s.provider} not fetched yet${s.lastError ? `: ${s.lastError}` : ''}`);
  }

  async close(): Promise<void> {
    await Promise.all([this.authenticator.close(), this.#introspection?.close()]);
  }
}
