import type { Clock, Logger } from '../core/index.ts';
import type { SpiffeId, TrustDomain } from '../spiffe/index.ts';
import { JwtBundleSet, type JwtBundle, type JwtBundleSource } from '../bundle/index.ts';
import { parseAndValidateJwtSvid, type JwtSvid } from '../svid/index.ts';
import type { BackoffOptions } from './backoff.ts';
import { notifyListeners } from './notify-listeners.ts';
import type { WorkloadApiClient } from './workload-api-client.ts';
import { sourceClient } from './source-client.ts';
import type { WorkloadApiError } from './workload-api-error.ts';
import { WatchedSource } from './watched-source.ts';

/** Options of {@link JwtSource.create}. */
export interface JwtSourceOptions {
  /** A client to use; it is not closed with the source. */
  readonly client?: WorkloadApiClient;
  readonly address?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** create() rejects with 'workload.timeout' after this long without bundles. */
  readonly timeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

/**
 * JWT bundles kept current from the Workload API (FetchJWTBundles stream),
 * plus JWT-SVID minting through the agent and local validation against the
 * watched bundles. PermissionDenied drops the bundles (spec §6).
 */
export class JwtSource extends WatchedSource<JwtBundleSet, JwtBundleSet> implements JwtBundleSource {
  readonly #updateListeners = new Set<(bundles: JwtBundleSet) => void>();

  private constructor(client: WorkloadApiClient, ownsClient: boolean, opts: JwtSourceOptions) {
    super(client, ownsClient, opts, { component: 'jwt-source', what: 'JWT source' }, JwtBundleSet.of([]));
  }

  /** Starts watching and resolves on the first valid bundle message. */
  static async create(opts: JwtSourceOptions = {}): Promise<JwtSource> {
    const { client, ownsClient } = sourceClient(opts);
    const source = new JwtSource(client, ownsClient, opts);
    await source.start(opts, (watcher) => client.watchJwtBundles(watcher), (set) => {
      source.#apply(set);
      return true;
    });
    return source;
  }

  /** The JWT bundle of `td`, or undefined when the agent sent none. */
  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle | undefined {
    return this.bundles().get(td);
  }

  /** Mints a JWT-SVID through the agent (one unary call; the agent caches, not us). */
  fetchJwtSvid(audience: string | readonly string[], subject?: SpiffeId): Promise<JwtSvid> {
    this.ensureOpen();
    const aud = typeof audience === 'string' ? [audience] : audience;
    return this.client.fetchJwtSvid({ audience: aud, ...(subject ? { subject } : {}) });
  }

  /**
   * Validates a JWT-SVID locally: signature against the watched bundle of the
   * subject's trust domain, expiry by the source's clock, and `audience`.
   */
  validate(token: string, audience: string): JwtSvid {
    this.ensureOpen();
    return parseAndValidateJwtSvid(token, this, [audience], { clock: this.clock });
  }

  /** Subscribes to bundle changes. */
  on(event: 'update', fn: (bundles: JwtBundleSet) => void): this {
    if (event === 'update') this.#updateListeners.add(fn);
    return this;
  }

  /** Removes a listener added with {@link on}. */
  off(event: 'update', fn: (bundles: JwtBundleSet) => void): this {
    if (event === 'update') this.#updateListeners.delete(fn);
    return this;
  }

  protected override dropListeners(): void {
    this.#updateListeners.clear();
  }

  #apply(set: JwtBundleSet): void {
    if (this.isClosed || this.bundles().equals(set)) return;
    this.setBundles(set);
    this.logger.info({ trust_domains: set.trustDomains().map((td) => td.name) }, 'JWT bundles updated');
    this.#emit();
  }

  protected override watchError(err: WorkloadApiError): void {
    this.logger.warn({ code: err.code, err: err.message }, 'workload API watch error');
    if (err.code === 'workload.no_identity' && this.bundles().size > 0) {
      this.setBundles(JwtBundleSet.of([]));
      this.#emit();
    }
  }

  #emit(): void {
    notifyListeners(this.#updateListeners, this.bundles(), this.logger, 'update');
  }
}
