import { describeError, type Clock, type Logger } from '../core/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import { X509BundleSet, type X509Bundle, type X509BundleSource } from '../bundle/index.ts';
import type { X509Svid, X509SvidSource } from '../svid/index.ts';
import type { BackoffOptions } from './backoff.ts';
import { notifyListeners } from './notify-listeners.ts';
import { sameSvids } from './state-equality.ts';
import type { WorkloadApiClient } from './workload-api-client.ts';
import { sourceClient } from './source-client.ts';
import { WorkloadApiError } from './workload-api-error.ts';
import type { X509Context } from './x509-context.ts';
import { WatchedSource } from './watched-source.ts';

/** Chooses the default SVID among those the agent sent; return undefined when none fits. */
export type X509SvidPicker = (svids: readonly X509Svid[]) => X509Svid | undefined;

/** Options of {@link X509Source.create}. */
export interface X509SourceOptions {
  /** A client to use; it is not closed with the source. Default: a new one from `address`/`env`. */
  readonly client?: WorkloadApiClient;
  /** Endpoint URI (wins over `env`). */
  readonly address?: string;
  /** Where SPIFFE_ENDPOINT_SOCKET is read from when no address is given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Chooses the default SVID; wins over `hint`. */
  readonly picker?: X509SvidPicker;
  /** Default SVID = the first one with this hint. Without picker or hint: svids[0] (SPIFFE_Workload_API.md §8). */
  readonly hint?: string;
  /** Aborts create() while it waits for the first update. */
  readonly signal?: AbortSignal;
  /** create() rejects with 'workload.timeout' after this long without a usable update. */
  readonly timeoutMs?: number;
  /** Reconnect backoff, when the source makes its own client. */
  readonly backoff?: BackoffOptions;
}

/** What an 'update' listener receives: the new state. */
export interface X509SourceUpdate {
  /** The default SVID, or undefined when the agent withdrew the identity. */
  readonly svid: X509Svid | undefined;
  readonly svids: readonly X509Svid[];
  readonly bundles: X509BundleSet;
}

type Listeners = {
  update: Set<(ev: X509SourceUpdate) => void>;
  error: Set<(err: WorkloadApiError) => void>;
};

/**
 * The caller's X509-SVIDs and X.509 bundles, kept current from the Workload
 * API (FetchX509SVID stream). Proxies read it through the X509SvidSource and
 * X509BundleSource interfaces; one watch writes, any number of readers read.
 *
 * Semantics (spec §4.3–4.4): every message replaces the whole state, so a
 * trust domain missing from a later message is dropped. A message that fails
 * validation changes nothing. PermissionDenied drops the SVIDs and bundles
 * (SPIFFE_Workload_Endpoint.md §6 and SPIFFE_Workload_API.md §4.4 say stop
 * using what was redacted; go-spiffe v2 workloadapi/watcher.go only reports the
 * error, so its X509Source keeps them) while the watch keeps retrying.
 */
export class X509Source extends WatchedSource<X509Context, X509BundleSet> implements X509SvidSource, X509BundleSource {
  readonly #picker: X509SvidPicker;
  readonly #listeners: Listeners = { update: new Set(), error: new Set() };
  #svids: readonly X509Svid[] = [];
  #svid: X509Svid | undefined;

  private constructor(client: WorkloadApiClient, ownsClient: boolean, opts: X509SourceOptions) {
    super(client, ownsClient, opts, { component: 'x509-source', what: 'X.509 source' }, X509BundleSet.of([]));
    const hint = opts.hint;
    this.#picker =
      opts.picker ?? (hint !== undefined ? (svids) => svids.find((s) => s.hint === hint) : (svids) => svids[0]);
  }

  /**
   * Starts watching and resolves once a usable update arrived (at least one
   * SVID and a default one picked). Rejects on a fatal status, `timeoutMs`
   * or `signal`, naming the last error seen (e.g. PermissionDenied).
   */
  static async create(opts: X509SourceOptions = {}): Promise<X509Source> {
    const { client, ownsClient } = sourceClient(opts);
    const source = new X509Source(client, ownsClient, opts);
    await source.start(opts, (watcher) => client.watchX509Context(watcher), (ctx) => {
      source.#apply(ctx);
      return source.#svid !== undefined;
    });
    return source;
  }

  /** The default SVID. Throws 'workload.no_svid' when there is none (withdrawn, or no hint match). */
  getX509Svid(): X509Svid {
    this.ensureOpen();
    if (!this.#svid) {
      const why = this.#svids.length > 0 ? 'no SVID matches the configured picker or hint' : 'the agent has issued no SVID to this workload';
      throw new WorkloadApiError('workload.no_svid', `x509 source: no X509-SVID available: ${why}`, { cause: this.lastError });
    }
    return this.#svid;
  }

  /** Every SVID of the last update, in server order. */
  getX509Svids(): readonly X509Svid[] {
    this.ensureOpen();
    return this.#svids;
  }

  /** The bundle of `td`, or undefined when the agent sent none (the peer is then untrusted). */
  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle | undefined {
    return this.bundles().get(td);
  }

  /** True when the default SVID exists and has not expired by the source's clock. */
  isReady(): boolean {
    if (this.isClosed || !this.#svid) return false;
    return this.#svid.notAfter.getTime() > this.clock.now();
  }

  /**
   * Subscribes to 'update' (fired only when the SVIDs or bundles actually
   * changed, compared by DER) or 'error' (every watch error; listening is
   * optional, an unheard error is only logged).
   */
  on(event: 'update', fn: (ev: X509SourceUpdate) => void): this;
  on(event: 'error', fn: (err: WorkloadApiError) => void): this;
  on(event: 'update' | 'error', fn: ((ev: X509SourceUpdate) => void) | ((err: WorkloadApiError) => void)): this {
    (this.#listeners[event] as Set<typeof fn>).add(fn);
    return this;
  }

  /** Removes a listener added with {@link on}. */
  off(event: 'update' | 'error', fn: ((ev: X509SourceUpdate) => void) | ((err: WorkloadApiError) => void)): this {
    (this.#listeners[event] as Set<typeof fn>).delete(fn);
    return this;
  }

  protected override dropListeners(): void {
    this.#listeners.update.clear();
    this.#listeners.error.clear();
  }

  #apply(ctx: X509Context): void {
    if (this.isClosed) return;
    if (sameSvids(this.#svids, ctx.svids) && this.bundles().equals(ctx.bundles)) return;
    let picked: X509Svid | undefined;
    try {
      picked = this.#picker(ctx.svids);
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'SVID picker threw');
      picked = undefined;
    }
    this.#svids = ctx.svids;
    this.#svid = picked;
    this.setBundles(ctx.bundles);
    if (!picked) {
      // Recorded so a create() that times out says why no update was usable.
      this.lastError = new WorkloadApiError(
        'workload.no_svid',
        `x509 source: none of the ${ctx.svids.length} SVID(s) matches the configured picker or hint`,
      );
      this.logger.warn({ svids: ctx.svids.map((s) => s.id.toString()) }, 'no SVID matches the picker or hint');
    }
    this.logger.info(
      {
        spiffe_id: picked?.id.toString(),
        svids: ctx.svids.length,
        not_after: picked?.notAfter.toISOString(),
        trust_domains: ctx.bundles.trustDomains().map((td) => td.name),
      },
      'X509-SVID updated',
    );
    this.#emitUpdate();
  }

  protected override watchError(err: WorkloadApiError): void {
    const level = err.code === 'workload.bad_message' || err.code === 'workload.fatal_status' ? 'error' : 'warn';
    this.logger[level]({ code: err.code, err: err.message }, 'workload API watch error');
    if (err.code === 'workload.no_identity' && (this.#svids.length > 0 || this.bundles().size > 0)) {
      // Spec §6 (PermissionDenied): stop using the SVIDs and bundles the
      // agent no longer grants; the watch keeps retrying.
      this.#svids = [];
      this.#svid = undefined;
      this.setBundles(X509BundleSet.of([]));
      this.#emitUpdate();
    }
    notifyListeners(this.#listeners.error, err, this.logger, 'error');
  }

  #emitUpdate(): void {
    const ev: X509SourceUpdate = { svid: this.#svid, svids: this.#svids, bundles: this.bundles() };
    notifyListeners(this.#listeners.update, ev, this.logger, 'update');
  }
}
