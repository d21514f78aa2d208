import type { Clock, Logger } from '../core/index.ts';
import { describeError } from '../core/index.ts';
import { quoteUntrusted } from '../spiffe/index.ts';
import { IntrospectionError } from './introspection-error.ts';
import { isHttpsOrLoopback } from './issuer-url.ts';
import type { IntrospectionTransport } from './introspection-transport.ts';
import { JwkSet, MAX_KEY_SET_BYTES, type VerificationKey } from './jwk-set.ts';

/** How long a fetched key set is used before it is fetched again. */
export const PHANTOM_KEYS_REFRESH_MS = 10 * 60_000;
/** An unknown `kid` refetches the set at most this often (rotation is rare; a forged kid must not drive traffic). */
export const PHANTOM_KEYS_MIN_REFETCH_MS = 30_000;
const MAX_DISCOVERY_BYTES = 64 * 1024;

/** Options of {@link IntrospectionKeySet}. */
export interface IntrospectionKeySetOptions {
  readonly provider: string;
  readonly issuer: string;
  /** The JWK Set URL; when undefined it is the `jwks_uri` of the issuer's discovery document. */
  readonly jwksUri: URL | undefined;
  readonly transport: IntrospectionTransport;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The authorization server's signing keys, for verifying the JWTs phantom
 * mode hands to the app. Fetched on first use (via OpenID Connect Discovery
 * 1.0 §4 when no JWKS URL is configured, the document's `issuer` must equal
 * the configured one), reused for {@link PHANTOM_KEYS_REFRESH_MS}, refetched
 * at once for an unknown `kid` at most every {@link PHANTOM_KEYS_MIN_REFETCH_MS};
 * a failed refetch keeps the last good set. Concurrent lookups share one fetch.
 */
export class IntrospectionKeySet {
  readonly #o: IntrospectionKeySetOptions;
  #jwksUri: URL | undefined;
  #set: JwkSet | undefined;
  #fetchedAt = -Infinity;
  #lastAttempt = -Infinity;
  #inflight: Promise<void> | undefined;

  constructor(o: IntrospectionKeySetOptions) {
    this.#o = o;
    this.#jwksUri = o.jwksUri;
  }

  /**
   * The keys that may have signed a JWS with this `kid` (every key when the
   * header has none). Resolves empty when the AS publishes no such key even
   * after a refetch; rejects with 'introspection.unavailable' when no key set
   * could ever be loaded.
   */
  async find(kid: string | undefined): Promise<readonly VerificationKey[]> {
    const now = this.#o.clock.now();
    const fresh = this.#set !== undefined && now - this.#fetchedAt < PHANTOM_KEYS_REFRESH_MS;
    if (fresh) {
      const keys = this.#lookup(kid);
      if (keys.length > 0 || now - this.#lastAttempt < PHANTOM_KEYS_MIN_REFETCH_MS) return keys;
    }
    await this.#refresh();
    return this.#lookup(kid);
  }

  #lookup(kid: string | undefined): readonly VerificationKey[] {
    const set = this.#set;
    if (set === undefined) return [];
    return kid === undefined ? set.all() : set.byKid(kid);
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    this.#lastAttempt = this.#o.clock.now();
    try {
      const url = this.#jwksUri ?? (await this.#discover());
      this.#jwksUri = url;
      const reply = await this.#o.transport.get(url, 'application/json', MAX_KEY_SET_BYTES);
      if (reply.status !== 200) throw this.#fail(`${url.origin}${url.pathname} answered ${reply.status}`);
      const { set, skipped } = JwkSet.parse(reply.body, { allowSymmetric: false, source: `${url.origin}${url.pathname}` });
      if (skipped.length > 0) this.#o.logger.warn({ provider: this.#o.provider, skipped }, 'introspection: ignoring unusable keys in the JWK Set');
      this.#set = set;
      this.#fetchedAt = this.#o.clock.now();
    } catch (err) {
      // Stale-if-error: a set we already trust stays in use.
      if (this.#set !== undefined) {
        this.#o.logger.warn({ provider: this.#o.provider, err: describeError(err) }, 'introspection: key set refresh failed; keeping the previous keys');
        return;
      }
      throw err instanceof IntrospectionError ? err : this.#fail(describeError(err), err);
    }
  }

  async #discover(): Promise<URL> {
    const issuer = this.#o.issuer;
    const url = new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    const reply = await this.#o.transport.get(url, 'application/json', MAX_DISCOVERY_BYTES);
    if (reply.status !== 200) throw this.#fail(`discovery ${url.origin}${url.pathname} answered ${reply.status}`);
    let doc: unknown;
    try {
      doc = JSON.parse(reply.body.toString('utf8'));
    } catch (cause) {
      throw this.#fail('discovery document is not JSON', cause);
    }
    const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
    if (d['issuer'] !== issuer) throw this.#fail(`discovery document names issuer ${quoteUntrusted(String(d['issuer']), 128)}, not the configured one`);
    let jwks: URL;
    try {
      jwks = new URL(String(d['jwks_uri']));
    } catch (cause) {
      throw this.#fail('discovery document has no valid "jwks_uri"', cause);
    }
    if (!isHttpsOrLoopback(jwks)) {
      throw this.#fail('discovery "jwks_uri" is not https');
    }
    return jwks;
  }

  #fail(why: string, cause?: unknown): IntrospectionError {
    return new IntrospectionError('introspection.unavailable', `introspection: provider ${this.#o.provider}: cannot load the issuer's keys: ${why}`, cause === undefined ? {} : { cause });
  }
}
