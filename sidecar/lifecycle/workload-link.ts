import { describeError, type Clock, type Logger } from '../core/index.ts';
import type { JwtSvidFetcher } from '../exchange/index.ts';
import { JwtSource, X509Source, type BackoffOptions } from '../workload/index.ts';
import { AppError } from './app-error.ts';
import { ConnectionTrackingClient } from './connection-tracking-client.ts';
import type { JwtBundleHolder } from './end-user-auth.ts';

/** Options of {@link WorkloadLink}. */
export interface WorkloadLinkOptions {
  /** The Workload API address (`unix:///…` or `tcp://IP:port`). */
  readonly endpoint: string;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Picks our SVID among several; '' for the first. */
  readonly hint: string;
  readonly backoff: BackoffOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told every time the X509 stream comes up or breaks. */
  readonly onConnection: (up: boolean, err: Error | undefined) => void;
}

/**
 * The sidecar's connection to the Workload API: the client, the X509
 * source that waits for the first SVID, and the JWT bundles when end-user
 * JWT-SVIDs are accepted. Stop aborts a wait still in progress.
 */
export class WorkloadLink implements JwtSvidFetcher {
  readonly #o: WorkloadLinkOptions;
  readonly #creating = new AbortController();
  #client: ConnectionTrackingClient | undefined;
  #x509: Promise<void> | undefined;
  #jwt: JwtSource | undefined;

  constructor(o: WorkloadLinkOptions) {
    this.#o = o;
  }

  /** True once stop() began: a source that arrives late is closed, not used. */
  get stopped(): boolean {
    return this.#creating.signal.aborted;
  }

  /**
   * Connects and waits (in the background) for the first X509-SVID, then
   * calls `onSource`. Resolves with that work; it rejects with
   * 'app.workload_api' when the agent refused us for good.
   */
  connect(onSource: (source: X509Source) => Promise<void>): Promise<void> {
    const o = this.#o;
    const client = new ConnectionTrackingClient({ address: o.endpoint, ...(o.env ? { env: o.env } : {}), clock: o.clock, logger: o.logger, backoff: o.backoff });
    this.#client = client;
    client.onConnection = (up, err) => o.onConnection(up, err);
    o.logger.info({ endpoint: o.endpoint }, 'waiting for the first X509-SVID');
    const signal = this.#creating.signal;
    this.#x509 = X509Source.create({ client, clock: o.clock, logger: o.logger, signal, ...(o.hint !== '' ? { hint: o.hint } : {}) }).then(
      (source) => (this.stopped ? source.close() : onSource(source)),
      (err: unknown) => {
        if (signal.aborted) return;
        throw new AppError('app.workload_api', `app: the Workload API at ${o.endpoint} refused us: ${describeError(err)}`, { cause: err });
      },
    );
    return this.#x509;
  }

  /** JWT-SVIDs as bearer tokens: their keys are the Workload API's JWT bundles, installed into `holder`. */
  followJwtBundles(holder: JwtBundleHolder): void {
    const o = this.#o;
    const signal = this.#creating.signal;
    void JwtSource.create({ client: this.#client!, clock: o.clock, logger: o.logger, signal }).then(
      (s) => {
        if (this.stopped) return s.close();
        this.#jwt = s;
        holder.set(s);
      },
      (err: unknown) => {
        if (!signal.aborted) o.logger.error({ err: describeError(err) }, 'JWT bundles unavailable: JWT-SVID bearer tokens get 503');
      },
    );
  }

  /** Our JWT-SVID for `audience` (outbound token modes); 'app.workload_api' before connect(). */
  async fetchJwtSvid(audience: string): ReturnType<JwtSvidFetcher['fetchJwtSvid']> {
    if (this.#client === undefined) throw new AppError('app.workload_api', 'app: the Workload API is not connected yet');
    return this.#client.fetchJwtSvid({ audience: [audience] });
  }

  /** Stops waiting for a first SVID and waits for what was already under way (its failure ignored). */
  async abort(): Promise<void> {
    this.#creating.abort();
    await this.#x509?.catch(() => {});
  }

  /** Closes the JWT source and the client (after abort() and the X509 source are closed). */
  close(): void {
    this.#jwt?.close();
    this.#client?.close();
  }
}
