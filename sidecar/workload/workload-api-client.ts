import {
  Client,
  Metadata,
  credentials,
  status as GrpcStatus,
  type ChannelOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type MethodDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { describeError, silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { quoteUntrusted, type SpiffeId } from '../spiffe/index.ts';
import type { JwtBundleSet, X509BundleSet } from '../bundle/index.ts';
import { parseJwtSvidInsecure, type JwtSvid } from '../svid/index.ts';
import type { BackoffOptions } from './backoff.ts';
import { resolveEndpoint, type EndpointAddress } from './endpoint-address.ts';
import { StreamWatch, type WatchHandle, type Watcher } from './stream-watch.ts';
import { statusError, WorkloadApiError } from './workload-api-error.ts';
import { loadWorkloadApiProto, type WorkloadApiService } from './workload-proto.ts';
import {
  parseJwtBundlesResponse,
  parseX509BundlesResponse,
  parseX509SvidResponse,
  type X509Context,
} from './x509-context.ts';

/** The metadata key every Workload API request must carry (Workload Endpoint spec §3). */
export const SECURITY_HEADER = 'workload.spiffe.io';

/** Options of {@link WorkloadApiClient}. */
export interface WorkloadApiClientOptions {
  /** Endpoint URI; wins over `env` (spec §4). */
  readonly address?: string;
  /** Where to read SPIFFE_ENDPOINT_SOCKET when `address` is not given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Reconnect backoff of the watch streams. */
  readonly backoff?: BackoffOptions;
  /** Extra grpc-js channel options, merged over the defaults. */
  readonly channelOptions?: ChannelOptions;
}

/** Per-call options of the one-shot methods. */
export interface CallOptions {
  /** Aborting cancels the call; the promise rejects with 'workload.aborted'. */
  readonly signal?: AbortSignal;
}

/** Parameters of {@link WorkloadApiClient.fetchJwtSvid}. */
export interface FetchJwtSvidParams extends CallOptions {
  /** At least one audience; the first is the primary one. */
  readonly audience: readonly string[];
  /** Ask for this identity only; default: every identity of the caller. */
  readonly subject?: SpiffeId;
}

/**
 * Channel defaults.
 *
 * Keepalive: a ping every 6 minutes detects a silently dead TCP peer. It is
 * deliberately longer than 5 minutes because SPIRE is a Go gRPC server whose
 * default enforcement policy answers more frequent pings with GOAWAY
 * "too_many_pings". No pings without calls.
 *
 * Reconnect: grpc-js's own connection backoff goes up to 120 s by default;
 * capped low here so that once the agent is back, the next attempt of our
 * own jittered backoff (stream-watch) finds the channel ready.
 */
const defaultChannelOptions: ChannelOptions = {
  'grpc.keepalive_time_ms': 6 * 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 0,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/**
 * A SPIFFE Workload API client over grpc-js: streaming watches that
 * reconnect on their own, and one-shot fetches. Every response is
 * validated before it reaches the caller.
 *
 * The channel is plaintext: the Workload Endpoint spec §3.1 forbids
 * requiring TLS; the socket's file permissions are the protection.
 */
export class WorkloadApiClient {
  /** The validated endpoint this client dials. */
  readonly address: EndpointAddress;
  readonly #client: Client;
  readonly #service: WorkloadApiService;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #backoff: BackoffOptions | undefined;
  readonly #watches = new Set<WatchHandle>();
  readonly #calls = new Set<{ cancel(): void }>();
  #closed = false;

  /** Validates the address (throws 'workload.bad_address' / 'workload.no_address'); dials lazily. */
  constructor(opts: WorkloadApiClientOptions = {}) {
    this.address = resolveEndpoint(opts.address, opts.env ?? {});
    this.#service = loadWorkloadApiProto().service;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = (opts.logger ?? silentLogger).child({ component: 'workload-api-client' });
    this.#backoff = opts.backoff;
    this.#client = new Client(this.address.target, credentials.createInsecure(), {
      ...defaultChannelOptions,
      ...opts.channelOptions,
    });
  }

  /** True once {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Watches FetchX509SVID: the caller's SVIDs and bundles, on every change. */
  watchX509Context(watcher: Watcher<X509Context>): WatchHandle {
    return this.#watch('FetchX509SVID', this.#service.FetchX509SVID, parseX509SvidResponse, watcher);
  }

  /** Watches FetchX509Bundles: every X.509 bundle visible to the caller. */
  watchX509Bundles(watcher: Watcher<X509BundleSet>): WatchHandle {
    return this.#watch('FetchX509Bundles', this.#service.FetchX509Bundles, parseX509BundlesResponse, watcher);
  }

  /** Watches FetchJWTBundles: every JWT bundle visible to the caller. */
  watchJwtBundles(watcher: Watcher<JwtBundleSet>): WatchHandle {
    return this.#watch('FetchJWTBundles', this.#service.FetchJWTBundles, parseJwtBundlesResponse, watcher);
  }

  /** Reads one FetchX509SVID message and closes the stream. No retries. */
  async fetchX509Context(opts: CallOptions = {}): Promise<X509Context> {
    return this.#first('FetchX509SVID', this.#service.FetchX509SVID, parseX509SvidResponse, opts);
  }

  /** Reads one FetchX509Bundles message and closes the stream. No retries. */
  async fetchX509Bundles(opts: CallOptions = {}): Promise<X509BundleSet> {
    return this.#first('FetchX509Bundles', this.#service.FetchX509Bundles, parseX509BundlesResponse, opts);
  }

  /** Reads one FetchJWTBundles message and closes the stream. No retries. */
  async fetchJwtBundles(opts: CallOptions = {}): Promise<JwtBundleSet> {
    return this.#first('FetchJWTBundles', this.#service.FetchJWTBundles, parseJwtBundlesResponse, opts);
  }

  /**
   * Mints a JWT-SVID for `audience` and returns the first one (the default
   * identity, or `subject`). The token is parsed without signature check:
   * it comes from our own agent over the local socket.
   */
  async fetchJwtSvid(params: FetchJwtSvidParams): Promise<JwtSvid> {
    const all = await this.fetchJwtSvids(params);
    return all[0]!;
  }

  /** Mints JWT-SVIDs for every identity of the caller (or just `subject`). */
  async fetchJwtSvids(params: FetchJwtSvidParams): Promise<JwtSvid[]> {
    const method = 'FetchJWTSVID';
    const audience = [...params.audience];
    if (audience.length === 0 || audience.some((a) => a === '')) {
      throw new WorkloadApiError('workload.bad_message', `${method}: at least one non-empty audience is required`);
    }
    const res = await this.#unary(
      method,
      this.#service.FetchJWTSVID,
      { audience, spiffe_id: params.subject?.toString() ?? '' },
      params,
    );
    const list = Array.isArray(res.svids) ? res.svids : [];
    if (list.length === 0) throw new WorkloadApiError('workload.bad_message', `${method}: invalid response: no JWT-SVIDs`);
    const out: JwtSvid[] = [];
    const seenHints = new Set<string>();
    list.forEach((m, i) => {
      let svid: JwtSvid;
      try {
        svid = parseJwtSvidInsecure(m.svid, audience, { clock: this.#clock, ...(m.hint ? { hint: m.hint } : {}) });
      } catch (err) {
        throw new WorkloadApiError(
          'workload.bad_message',
          `${method}: invalid response: svids[${i}] (${quoteUntrusted(m.spiffe_id)}): ${describeError(err)}`,
          { cause: err },
        );
      }
      if (svid.id.toString() !== m.spiffe_id) {
        throw new WorkloadApiError(
          'workload.bad_message',
          `${method}: invalid response: svids[${i}] spiffe_id ${quoteUntrusted(m.spiffe_id)} does not match the token subject`,
        );
      }
      if (params.subject && !svid.id.equals(params.subject)) {
        throw new WorkloadApiError('workload.bad_message', `${method}: invalid response: got a token for another identity than requested`);
      }
      if (m.hint) {
        if (seenHints.has(m.hint)) return;
        seenHints.add(m.hint);
      }
      out.push(svid);
    });
    return out;
  }

  /**
   * Asks the agent to validate a JWT-SVID for `audience`. On success the
   * token is parsed locally (no signature check; the agent did that) and
   * must name the same subject the agent returned.
   */
  async validateJwtSvid(token: string, audience: string, opts: CallOptions = {}): Promise<JwtSvid> {
    const method = 'ValidateJWTSVID';
    const res = await this.#unary(method, this.#service.ValidateJWTSVID, { audience, svid: token }, opts);
    let svid: JwtSvid;
    try {
      svid = parseJwtSvidInsecure(token, [audience], { clock: this.#clock });
    } catch (err) {
      throw new WorkloadApiError('workload.bad_message', `${method}: the agent accepted a token that does not parse locally`, { cause: err });
    }
    if (svid.id.toString() !== res.spiffe_id) {
      throw new WorkloadApiError('workload.bad_message', `${method}: invalid response: spiffe_id ${quoteUntrusted(res.spiffe_id)} does not match the token subject`);
    }
    return svid;
  }

  /**
   * Cancels every watch, pending call and retry timer and closes the
   * channel, so nothing of this client keeps the process alive. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#watches]) w.cancel();
    for (const c of [...this.#calls]) c.cancel();
    this.#client.close();
  }

  #metadata(): Metadata {
    const md = new Metadata();
    md.set(SECURITY_HEADER, 'true');
    return md;
  }

  #ensureOpen(method: string): void {
    if (this.#closed) throw new WorkloadApiError('workload.closed', `${method}: the client is closed`);
  }

  #open<M>(def: MethodDefinition<Record<string, never>, M>): ClientReadableStream<M> {
    return this.#client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, {}, this.#metadata());
  }

  #watch<M, T>(
    method: string,
    def: MethodDefinition<Record<string, never>, M>,
    parse: (m: M) => T,
    watcher: Watcher<T>,
  ): WatchHandle {
    this.#ensureOpen(method);
    const watch: StreamWatch<M, T> = new StreamWatch<M, T>({
      method,
      open: () => this.#open(def),
      parse,
      watcher,
      clock: this.#clock,
      logger: this.#logger,
      ...(this.#backoff ? { backoff: this.#backoff } : {}),
      onStop: () => this.#watches.delete(watch),
    });
    this.#watches.add(watch);
    return watch.start();
  }

  #first<M, T>(method: string, def: MethodDefinition<Record<string, never>, M>, parse: (m: M) => T, opts: CallOptions): Promise<T> {
    this.#ensureOpen(method);
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(aborted(method, signal));
    return new Promise<T>((resolve, reject) => {
      const stream = this.#open(def);
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.#calls.delete(stream);
        signal?.removeEventListener('abort', onAbort);
        stream.cancel();
        fn();
      };
      const onAbort = (): void => finish(() => reject(aborted(method, signal!)));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#calls.add(stream);
      stream.on('data', (m: M) => {
        finish(() => {
          try {
            resolve(parse(m));
          } catch (err) {
            reject(err);
          }
        });
      });
      stream.on('error', () => {});
      stream.on('status', (s) => {
        if (this.#closed && s.code === GrpcStatus.CANCELLED) {
          finish(() => reject(new WorkloadApiError('workload.closed', `${method}: the client was closed`)));
        } else {
          finish(() => reject(statusError(method, s)));
        }
      });
    });
  }

  #unary<Req, Res>(method: string, def: MethodDefinition<Req, Res>, req: Req, opts: CallOptions): Promise<Res> {
    this.#ensureOpen(method);
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(aborted(method, signal));
    return new Promise<Res>((resolve, reject) => {
      let settled = false;
      let call: ClientUnaryCall | undefined;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        if (call) this.#calls.delete(call);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = (): void => {
        call?.cancel();
        finish(() => reject(aborted(method, signal!)));
      };
      call = this.#client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        req,
        this.#metadata(),
        {},
        (err: ServiceError | null, res?: Res) => {
          if (err) {
            if (this.#closed && err.code === GrpcStatus.CANCELLED) {
              finish(() => reject(new WorkloadApiError('workload.closed', `${method}: the client was closed`)));
            } else {
              finish(() => reject(statusError(method, { code: err.code, details: err.details })));
            }
          } else if (res === undefined) {
            finish(() => reject(new WorkloadApiError('workload.bad_message', `${method}: empty response`)));
          } else {
            finish(() => resolve(res));
          }
        },
      );
      this.#calls.add(call);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function aborted(method: string, signal: AbortSignal): WorkloadApiError {
  return new WorkloadApiError('workload.aborted', `${method}: aborted`, { cause: signal.reason });
}
