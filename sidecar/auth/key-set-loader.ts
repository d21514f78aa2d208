import type { Clock } from '../core/index.ts';
import { quoteUntrusted } from '../spiffe/index.ts';
import { keySetLifetimeMs, type KeySetLifetimeBounds } from './cache-control.ts';
import type { IssuerClient } from './issuer-client.ts';
import { describeUrl, parseFetchUrl } from './issuer-url.ts';
import { JwkSet } from './jwk-set.ts';
import { KeySetError } from './key-set-error.ts';

/** One successful load: the new set (undefined when the source has not changed) and how long to use it. */
export interface KeySetLoad {
  readonly set: JwkSet | undefined;
  readonly lifetimeMs: number;
  /** Why keys were left out of the set (for a warning, once); never key material. */
  readonly skipped: readonly string[];
}

/**
 * Where a key-set cache loads from: a JWKS URL, an issuer's discovery
 * document, or a file. `load` throws KeySetError and honours `signal`.
 */
export interface KeySetLoader {
  /** Names the source in logs: a URL without query, or a file path. */
  readonly source: string;
  /** Loads the set; `haveSet` false forbids an "unchanged" answer (the cache holds nothing to keep). */
  load(signal: AbortSignal, haveSet: boolean): Promise<KeySetLoad>;
  close(): Promise<void>;
}

/** Loads a JWK Set from a fixed URL; its lifetime comes from Cache-Control. */
export class JwksUrlLoader implements KeySetLoader {
  readonly source: string;
  readonly #url: URL;
  readonly #client: IssuerClient;
  readonly #bounds: KeySetLifetimeBounds;

  constructor(url: URL, client: IssuerClient, bounds: KeySetLifetimeBounds) {
    this.#url = url;
    this.#client = client;
    this.#bounds = bounds;
    this.source = describeUrl(url);
  }

  async load(signal: AbortSignal, _haveSet = false): Promise<KeySetLoad> {
    const res = await this.#client.get(this.#url, 'JWKS', signal);
    const { set, skipped } = JwkSet.parse(res.body, { allowSymmetric: false, source: this.source });
    return { set, skipped, lifetimeMs: keySetLifetimeMs(res.cacheControl, this.#bounds) };
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/**
 * Loads the JWK Set named by the issuer's OpenID Connect discovery document
 * (OpenID Connect Discovery 1.0 §4; RFC 8414 §3). The document is fetched
 * again when its own lifetime ends or after a failed load, so an issuer that
 * moves its `jwks_uri` is followed.
 */
export class DiscoveryLoader implements KeySetLoader {
  readonly source: string;
  readonly #issuer: string;
  readonly #documentUrl: URL;
  readonly #client: IssuerClient;
  readonly #bounds: KeySetLifetimeBounds;
  readonly #clock: Clock;
  #jwks: JwksUrlLoader | undefined;
  #jwksUntil = 0;

  constructor(issuer: string, documentUrl: URL, client: IssuerClient, bounds: KeySetLifetimeBounds, clock: Clock) {
    this.#issuer = issuer;
    this.#documentUrl = documentUrl;
    this.#client = client;
    this.#bounds = bounds;
    this.#clock = clock;
    this.source = describeUrl(documentUrl);
  }

  async load(signal: AbortSignal, _haveSet = false): Promise<KeySetLoad> {
    if (this.#jwks === undefined || this.#clock.now() >= this.#jwksUntil) await this.#discover(signal);
    try {
      return await this.#jwks!.load(signal);
    } catch (err) {
      this.#jwksUntil = 0; // look the jwks_uri up again next time
      throw err;
    }
  }

  async #discover(signal: AbortSignal): Promise<void> {
    const res = await this.#client.get(this.#documentUrl, 'discovery document', signal);
    const bad = (why: string, cause?: unknown) =>
      new KeySetError('auth.bad_discovery', `auth: discovery document from ${this.source} ${why}`, cause === undefined ? {} : { cause });
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(res.body));
    } catch (cause) {
      throw bad('is not UTF-8 JSON', cause);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('is not a JSON object');
    const { issuer, jwks_uri: jwksUri } = doc as Record<string, unknown>;
    // OpenID Connect Discovery 1.0 §4.3 / RFC 8414 §3.3: the document must
    // name exactly the issuer it was fetched for, or a mix-up is possible.
    if (issuer !== this.#issuer) throw bad(`names issuer ${quoteUntrusted(String(issuer), 128)}, not the configured one`);
    if (typeof jwksUri !== 'string') throw bad('has no "jwks_uri"');
    const url = parseFetchUrl(jwksUri);
    if (!(url instanceof URL)) throw bad(`has an unusable "jwks_uri": ${url.message}`);
    this.#jwks = new JwksUrlLoader(url, this.#client, this.#bounds);
    this.#jwksUntil = this.#clock.now() + keySetLifetimeMs(res.cacheControl, this.#bounds);
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
