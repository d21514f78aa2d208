import { createHash } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { describeError, errorCode, systemClock, silentLogger, type Clock, type Logger } from '../core/index.ts';
import { SpiffeId, type TrustDomain } from '../spiffe/index.ts';
import { JwtBundleSet } from '../bundle/index.ts';
import { parseAndValidateJwtSvid } from '../svid/index.ts';
import {
  toStruct,
  type JwtSvidRequestMessage,
  type JwtSvidResponseMessage,
  type ValidateJwtSvidRequestMessage,
  type ValidateJwtSvidResponseMessage,
  type X509SvidResponseMessage,
} from '../workload/index.ts';
import { AuthorityStore, type TrustDomainAuthorities } from './authority-store.ts';
import { CertificateAuthority, type CertificateAuthorityOptions } from './ca.ts';
import { parseIds, validateOptions, type DevAgentOptions } from './dev-agent-options.ts';
import type { KeyType } from './cert-builder.ts';
import { DevAgentError } from './dev-agent-error.ts';
import { JwtAuthority, type JwtKeyType } from './jwt-authority.ts';
import { RpcStatusError, WorkloadApiServer, type WorkloadApiBackend } from './server.ts';
import { WorkloadState, type IssuedSvid } from './workload-state.ts';

interface Authority {
  readonly td: TrustDomain;
  readonly ca: CertificateAuthority;
  readonly jwt: JwtAuthority;
  readonly federatesWith: readonly TrustDomain[];
  /** Bumped on every CA rotation. */
  generation: number;
  /** The CA rotation in progress, shared by everyone who needs it. */
  rotating: Promise<void> | undefined;
}

/**
 * Shortest delay between two rotations: only a guard against spinning on an
 * expired CA. It must stay well under a second: certificate times are whole
 * seconds (RFC 5280 §4.1.2.5), so a 2 s SVID can have about 1 s left when it
 * arrives, and a longer floor would renew it after it expired.
 */
const MIN_ROTATION_DELAY_MS = 50;

const NO_IDENTITY = 'no identity issued';

/** SPIRE's default `ca_ttl`. */
const DEFAULT_CA_TTL_MS = 24 * 3_600_000;

/**
 * An embedded SPIFFE Workload API server with an in-memory CA and JWT key
 * per trust domain: the development default and the test fixture. With
 * `stateDir` the authorities are kept on disk, so a restart keeps the CA.
 *
 * It behaves like a SPIRE agent where that matters to clients: the security
 * header, PermissionDenied "no identity issued", a first message at once and
 * a new one on every rotation (at half the SVID lifetime), per-call JWT-SVIDs,
 * federation through `federated_bundles`, and with `intermediate` the
 * leaf + intermediate chains of a SPIRE server behind an UpstreamAuthority.
 * Identity is per socket because Node cannot read a socket peer's credentials.
 */
export class DevAgent {
  readonly #authorities: ReadonlyMap<string, Authority>;
  readonly #workloads: ReadonlyMap<string, WorkloadState>;
  readonly #svidTtlMs: number;
  readonly #jwtTtlMs: number;
  readonly #keyType: KeyType | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #store: AuthorityStore | undefined;
  #stopped = false;

  private constructor(
    authorities: Map<string, Authority>,
    workloads: Map<string, WorkloadState>,
    opts: DevAgentOptions,
    logger: Logger,
    store: AuthorityStore | undefined,
  ) {
    this.#store = store;
    this.#authorities = authorities;
    this.#workloads = workloads;
    this.#svidTtlMs = opts.svidTtlMs;
    this.#jwtTtlMs = opts.jwtTtlMs ?? 5 * 60_000;
    this.#keyType = opts.keyType;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = logger;
  }

  /**
   * Validates the options (every problem reported at once, as
   * 'devagent.bad_config'), loads the authorities from `stateDir` or creates
   * them (and saves them there), issues the first SVIDs and starts one
   * server per workload socket. A state file that cannot be used is
   * 'devagent.bad_state' naming the file.
   */
  static async start(opts: DevAgentOptions): Promise<DevAgent> {
    const { tds, workloads } = validateOptions(opts);
    const logger = (opts.logger ?? silentLogger).child({ component: 'dev-agent' });
    const clock = opts.clock ?? systemClock;
    const store = opts.stateDir === undefined ? undefined : await AuthorityStore.open(opts.stateDir);
    const authorities = new Map<string, Authority>();
    for (const [name, t] of tds) {
      const caOpts: CertificateAuthorityOptions = {
        trustDomain: t.td,
        clock,
        // Long enough that SVIDs are rarely capped by the CA's expiry.
        caTtlMs: Math.max(DEFAULT_CA_TTL_MS, 4 * opts.svidTtlMs),
        ...(opts.keyType ? { keyType: opts.keyType } : {}),
        ...(opts.intermediate ? { intermediate: true } : {}),
      };
      const { ca, jwt } = await openAuthorities(caOpts, jwtKeyType(opts.keyType), store, clock, logger);
      authorities.set(name, { td: t.td, ca, jwt, federatesWith: t.federatesWith, generation: 0, rotating: undefined });
    }
    const states = new Map<string, WorkloadState>();
    for (const w of workloads) states.set(w.socketPath, new WorkloadState(w.socketPath, w.mode, w.ids, w.hints));
    const agent = new DevAgent(authorities, states, opts, logger, store);
    try {
      for (const w of states.values()) {
        await agent.#reissue(w, 'initial');
        w.server = await WorkloadApiServer.listen({
          socketPath: w.socketPath,
          mode: w.mode,
          backend: agent.#backend(w),
          logger,
        });
        logger.info(
          { event: 'listening', socket: w.socketPath, spiffe_ids: w.ids.map(String), mode: '0' + w.mode.toString(8) },
          'workload API listening',
        );
      }
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return agent;
  }

  /** The socket paths served, in configuration order. */
  get socketPaths(): string[] {
    return [...this.#workloads.keys()];
  }

  /** The trust domains this agent is the authority of. */
  get trustDomains(): TrustDomain[] {
    return [...this.#authorities.values()].map((a) => a.td);
  }

  /** The CA certificates (concatenated DER) of `td`, e.g. to write a bundle file for a test peer. */
  bundleDer(td: string | TrustDomain): Buffer {
    return this.#authority(td).ca.bundleDer();
  }

  /** The JWT bundle (plain JWKS JSON) of `td`. */
  jwks(td: string | TrustDomain): string {
    return this.#authority(td).jwt.jwks();
  }

  /** Issues new SVIDs (new keys) for one workload, or all, now; open streams get a message. */
  async rotateNow(socketPath?: string): Promise<void> {
    this.#ensureRunning();
    const targets = socketPath === undefined ? [...this.#workloads.values()] : [this.#workload(socketPath)];
    await Promise.all(targets.map((w) => this.#enqueue(w, 'manual')));
  }

  /**
   * Rotates the CA of `td`; workloads of that trust domain get SVIDs from
   * the new CA, and every workload that sees the bundle gets a new message.
   */
  async rotateCa(td: string | TrustDomain): Promise<void> {
    this.#ensureRunning();
    const a = this.#authority(td);
    await this.#rotateAuthority(a, 'manual');
    await Promise.all(
      [...this.#workloads.values()].filter((w) => w.ids.some((id) => id.memberOf(a.td))).map((w) => this.#enqueue(w, 'ca_rotated')),
    );
  }

  /**
   * Rotates `a`'s CA once even when several workloads ask at the same time,
   * then tells every workload that sees the bundle (it gained a root).
   */
  async #rotateAuthority(a: Authority, reason: string): Promise<void> {
    if (!a.rotating) {
      a.rotating = (async () => {
        try {
          await a.ca.rotate();
          a.generation++;
          this.#logger.info({ event: 'ca_rotated', trust_domain: a.td.name, reason }, 'CA rotated');
          await this.#saveAuthority(a);
        } finally {
          a.rotating = undefined;
        }
        for (const w of this.#workloads.values()) {
          if (this.#visibleTrustDomains(w).some((t) => t.equals(a.td))) w.notify();
        }
      })();
    }
    await a.rotating;
  }

  /**
   * Issues one SVID. When the CA's remaining life caps the SVID below the
   * configured TTL, the CA is rotated first, as SPIRE prepares its next CA
   * long before the current one expires; otherwise SVIDs would shrink
   * towards the CA's expiry and then fail with 'ca.expired'.
   */
  async #issueOne(id: SpiffeId): Promise<{ chainDer: Buffer; keyPkcs8Der: Buffer; notAfter: Date }> {
    const a = this.#authority(id.trustDomain);
    const issue = () => a.ca.issueX509Svid({ id, ttlMs: this.#svidTtlMs, ...(this.#keyType ? { keyType: this.#keyType } : {}) });
    const generation = a.generation;
    const wanted = this.#clock.now() + this.#svidTtlMs - 1_000;
    let r: Awaited<ReturnType<typeof issue>> | undefined;
    try {
      r = await issue();
    } catch (err) {
      if (errorCode(err) !== 'ca.expired') throw err;
    }
    if (r && r.notAfter.getTime() >= wanted) return r;
    if (a.generation === generation) await this.#rotateAuthority(a, 'ca_expiring');
    return issue();
  }

  /**
   * Replaces the identities of a socket. An empty list withdraws the
   * identity: open streams end with PermissionDenied "no identity issued",
   * as SPIRE does when a workload's last entry is deleted.
   */
  async setWorkloadIds(socketPath: string, ids: readonly string[], hints: readonly string[] = []): Promise<void> {
    this.#ensureRunning();
    const w = this.#workload(socketPath);
    const problems: string[] = [];
    const parsed = parseIds(ids, `setWorkloadIds(${socketPath})`, new Set(this.#authorities.keys()), problems);
    if (problems.length > 0) throw new DevAgentError('devagent.bad_config', problems.join('; '));
    await this.#enqueueTask(w, async () => {
      w.ids = parsed;
      w.hints = [...hints];
      await this.#reissue(w, 'identity_changed');
    });
  }

  /** Stops every server, removes the socket files and cancels rotation timers. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const w of this.#workloads.values()) {
      w.rotationTimer?.cancel();
      w.rotationTimer = undefined;
    }
    await Promise.all([...this.#workloads.values()].map((w) => w.server?.stop()));
    this.#logger.info({ event: 'stopped' }, 'dev agent stopped');
  }

  /**
   * Saves a rotated CA to the state directory. A failure is logged, not
   * thrown: the new CA already serves, and failing the rotation would stop
   * SVID renewal; the next restart then starts from the older saved CA.
   */
  async #saveAuthority(a: Authority): Promise<void> {
    if (!this.#store) return;
    try {
      await this.#store.save(a);
    } catch (err) {
      this.#logger.error({ event: 'state_write_failed', trust_domain: a.td.name, err: describeError(err) }, 'could not save the rotated CA');
    }
  }

  #ensureRunning(): void {
    if (this.#stopped) throw new DevAgentError('devagent.stopped', 'the agent is stopped');
  }

  #workload(socketPath: string): WorkloadState {
    const w = this.#workloads.get(socketPath);
    if (!w) throw new DevAgentError('devagent.unknown', `no workload socket ${socketPath}`);
    return w;
  }

  #authority(td: string | TrustDomain): Authority {
    const name = typeof td === 'string' ? td : td.name;
    const a = this.#authorities.get(name);
    if (!a) throw new DevAgentError('devagent.unknown', `not an authority for trust domain ${name}`);
    return a;
  }

  #enqueue(w: WorkloadState, reason: string): Promise<void> {
    return this.#enqueueTask(w, () => this.#reissue(w, reason));
  }

  #enqueueTask(w: WorkloadState, task: () => Promise<void>): Promise<void> {
    const run = w.queue.then(task);
    // The queue itself must never reject, or one failed rotation would stop all later ones.
    w.queue = run.catch(() => {});
    return run;
  }

  /** Issues fresh SVIDs for every ID of `w`, tells its streams, and schedules the next rotation. */
  async #reissue(w: WorkloadState, reason: string): Promise<void> {
    if (this.#stopped) return;
    w.rotationTimer?.cancel();
    w.rotationTimer = undefined;
    const issued: IssuedSvid[] = [];
    for (const [i, id] of w.ids.entries()) {
      const r = await this.#issueOne(id);
      issued.push({ id, hint: w.hints[i] ?? '', chainDer: r.chainDer, keyPkcs8Der: r.keyPkcs8Der, notAfter: new Date(r.notAfter) });
    }
    if (this.#stopped) return;
    w.issued = issued;
    if (issued.length > 0) {
      const soonest = Math.min(...issued.map((s) => s.notAfter.getTime()));
      // Like SPIRE's agent: renew at half the remaining lifetime.
      const delay = Math.max(MIN_ROTATION_DELAY_MS, Math.floor((soonest - this.#clock.now()) / 2));
      w.rotationTimer = this.#clock.setTimeout(() => {
        w.rotationTimer = undefined;
        this.#enqueue(w, 'ttl').catch((err: unknown) =>
          this.#logger.error({ event: 'rotation_failed', socket: w.socketPath, err: describeError(err) }, 'SVID rotation failed'),
        );
      }, delay);
    }
    if (reason !== 'initial') {
      this.#logger.info(
        {
          event: issued.length > 0 ? 'rotated' : 'identity_withdrawn',
          reason,
          socket: w.socketPath,
          spiffe_ids: issued.map((s) => s.id.toString()),
          not_after: issued[0]?.notAfter.toISOString(),
        },
        issued.length > 0 ? 'SVIDs rotated' : 'identity withdrawn',
      );
    }
    w.notify();
  }

  /** Trust domains whose bundles `w` receives: its own, then the federated ones. */
  #visibleTrustDomains(w: WorkloadState): TrustDomain[] {
    const own = this.#ownTrustDomains(w);
    const out = [...own];
    for (const td of own) {
      for (const f of this.#authority(td).federatesWith) {
        if (!out.some((t) => t.equals(f))) out.push(f);
      }
    }
    return out;
  }

  #ownTrustDomains(w: WorkloadState): TrustDomain[] {
    const out: TrustDomain[] = [];
    for (const id of w.ids) if (!out.some((t) => t.equals(id.trustDomain))) out.push(id.trustDomain);
    return out;
  }

  #backend(w: WorkloadState): WorkloadApiBackend {
    const noIdentity = (): RpcStatusError => new RpcStatusError(GrpcStatus.PERMISSION_DENIED, NO_IDENTITY);
    const bundleMap = (encode: (a: Authority) => Buffer): Record<string, Buffer> => {
      if (w.issued.length === 0) throw noIdentity();
      const map: Record<string, Buffer> = {};
      for (const td of this.#visibleTrustDomains(w)) map[td.idString()] = encode(this.#authority(td));
      return map;
    };
    return {
      subscribe: (fn) => w.subscribe(fn),
      x509SvidResponse: (): X509SvidResponseMessage => {
        if (w.issued.length === 0) throw noIdentity();
        const own = this.#ownTrustDomains(w);
        const federated: Record<string, Buffer> = {};
        for (const td of this.#visibleTrustDomains(w)) {
          if (!own.some((t) => t.equals(td))) federated[td.idString()] = this.#authority(td).ca.bundleDer();
        }
        return {
          svids: w.issued.map((s) => ({
            spiffe_id: s.id.toString(),
            x509_svid: s.chainDer,
            x509_svid_key: s.keyPkcs8Der,
            bundle: this.#authority(s.id.trustDomain).ca.bundleDer(),
            hint: s.hint,
          })),
          crl: [],
          federated_bundles: federated,
        };
      },
      x509Bundles: () => bundleMap((a) => a.ca.bundleDer()),
      jwtBundles: () => bundleMap((a) => Buffer.from(a.jwt.jwks(), 'utf8')),
      fetchJwtSvids: async (req: JwtSvidRequestMessage): Promise<JwtSvidResponseMessage> => {
        const audience = (req.audience ?? []).filter((a) => a !== '');
        if (audience.length === 0) throw new RpcStatusError(GrpcStatus.INVALID_ARGUMENT, 'audience must be specified');
        let wanted: SpiffeId | undefined;
        if (req.spiffe_id) {
          try {
            wanted = SpiffeId.parse(req.spiffe_id);
          } catch (err) {
            throw new RpcStatusError(GrpcStatus.INVALID_ARGUMENT, `invalid requested SPIFFE ID: ${describeError(err)}`);
          }
        }
        const chosen = w.issued.filter((s) => !wanted || s.id.equals(wanted));
        if (chosen.length === 0) throw noIdentity();
        const nowS = Math.floor(this.#clock.now() / 1000);
        const exp = Math.floor((this.#clock.now() + this.#jwtTtlMs) / 1000);
        return {
          svids: chosen.map((s) => ({
            spiffe_id: s.id.toString(),
            svid: this.#authority(s.id.trustDomain).jwt.sign({ sub: s.id.toString(), aud: audience, exp, iat: nowS }),
            hint: s.hint,
          })),
        };
      },
      validateJwtSvid: async (req: ValidateJwtSvidRequestMessage): Promise<ValidateJwtSvidResponseMessage> => {
        if (!req.audience) throw new RpcStatusError(GrpcStatus.INVALID_ARGUMENT, 'audience must be specified');
        if (!req.svid) throw new RpcStatusError(GrpcStatus.INVALID_ARGUMENT, 'svid must be specified');
        // SPIRE validates against the bundles visible to the caller, and
        // needs no identity for it; with none, the first trust domain stands
        // in for the agent's own.
        const visible = w.ids.length > 0 ? this.#visibleTrustDomains(w) : [[...this.#authorities.values()][0]!.td];
        const bundles = JwtBundleSet.of(visible.map((td) => this.#authority(td).jwt.bundle()));
        try {
          const svid = parseAndValidateJwtSvid(req.svid, bundles, [req.audience], { clock: this.#clock });
          const claims: Record<string, unknown> = { ...svid.claims, aud: [...svid.audience] };
          return { spiffe_id: svid.id.toString(), claims: toStruct(claims) };
        } catch (err) {
          throw new RpcStatusError(GrpcStatus.INVALID_ARGUMENT, describeError(err));
        }
      },
    };
  }
}

/**
 * The authorities of one trust domain: loaded from the store when it has
 * them (an expired CA is rotated and saved again), else created and, with
 * a store, saved. Logs the bundle's fingerprint, never a key.
 */
async function openAuthorities(
  caOpts: CertificateAuthorityOptions,
  jwtType: JwtKeyType,
  store: AuthorityStore | undefined,
  clock: Clock,
  logger: Logger,
): Promise<TrustDomainAuthorities> {
  const td = caOpts.trustDomain;
  const describe = (a: TrustDomainAuthorities) => ({
    trust_domain: td.name,
    bundle_sha256: createHash('sha256').update(a.ca.bundleDer()).digest('hex'),
    ca_not_after: a.ca.signerNotAfter.toISOString(),
    jwt_kid: a.jwt.kid,
  });
  const loaded = await store?.load(td, { ca: caOpts, jwtKeyType: jwtType });
  if (store && loaded) {
    if (clock.now() >= loaded.ca.signerNotAfter.getTime()) {
      // As the running agent does when its CA runs out: a new root, the old one kept while valid.
      await loaded.ca.rotate();
      await store.save(loaded);
      logger.info({ event: 'ca_rotated', trust_domain: td.name, reason: 'expired_in_state' }, 'CA rotated');
    }
    logger.info({ event: 'authority_loaded', file: store.fileOf(td), ...describe(loaded) }, 'authorities loaded from the state directory');
    return loaded;
  }
  const created = { ca: await CertificateAuthority.create(caOpts), jwt: JwtAuthority.generate(td, jwtType) };
  if (store) {
    await store.save(created);
    logger.info({ event: 'authority_created', file: store.fileOf(td), ...describe(created) }, 'authorities created and saved to the state directory');
  }
  return created;
}

function jwtKeyType(k: KeyType | undefined): JwtKeyType {
  // JwtAuthority has no RSA-4096; a 2048-bit key still exercises RS256.
  if (k === undefined) return 'ec-p256';
  return k === 'rsa-4096' ? 'rsa-2048' : k;
}
