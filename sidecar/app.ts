/**
 * The composition root: turns one validated Config into a running sidecar
 * (Workload API link, credentials home, policies, proxies, admin listener,
 * metrics). The wiring is plain functions; the state it produces lives in
 * small named types from lifecycle/: the lifecycle (SidecarLifecycle), the
 * listener slots (ListenerSlot), the SVID watch that feeds the credentials
 * home (SvidWatch), and the Workload API link (WorkloadLink).
 *
 * Only the CLI and tests call it. It reads no process globals: the logger,
 * clock and environment come in as deps.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createAdminServer, type AdminServer, type Readiness } from './admin/index.ts';
import { AuditLog, type AuditWriter } from './audit/index.ts';
import { ContextHandles } from './auth/index.ts';
import { peerIdMatcher, redactedConfig, type Config, type UpstreamRoute } from './config/index.ts';
import { describeError, formatAddress, systemClock, type Clock, type Logger } from './core/index.ts';
import { InboundEnforcement, type ConnectionDecisionSink } from './enforcement/index.ts';
import { IdentityHeaders, UserHeaders } from './headers/index.ts';
import { createInbound, createTcpInbound } from './inbound/index.ts';
import { AuthMetrics, EgressMetrics, ExchangeMetrics, SidecarMetrics } from './metrics/index.ts';
import { JwtSvidTokens, TokenExchanger, type JwtSvidFetcher, type TlsClientCertificate } from './exchange/index.ts';
import { createOutbound, createTcpOutbound, matchOwnTrustDomain, type TransparentOptions } from './outbound/index.ts';
import type { Decision, Policy } from './policy/index.ts';
import type { SpiffeId } from './spiffe/index.ts';
import {
  AppError,
  EndUserAuth,
  IdentityHolder,
  JwtBundleHolder,
  ListenerSlot,
  Policies,
  SidecarLifecycle,
  SvidWatch,
  WorkloadLink,
  type ListenerState,
  type SlotStage,
} from './lifecycle/index.ts';
import { matchMemberOf } from './spiffe/index.ts';
import { Credentials } from './tls/index.ts';
import { loadOriginalDestination, originalDestination } from './transparent/index.ts';
import { loadTracing, type Tracing } from './tracing/index.ts';
import type { X509Svid, X509SvidSource } from './svid/index.ts';
import type { BackoffOptions } from './workload/index.ts';

export type { ListenerState } from './lifecycle/index.ts';

/** What {@link buildSidecar} needs from its caller. */
export interface SidecarDeps {
  /** The root logger; components get children of it. */
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Only read for SPIFFE_ENDPOINT_SOCKET if the config has no socket (it normally has). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Called once when the sidecar cannot go on after start() returned: an
   * inbound listener failed to bind after the first SVID, or the Workload
   * API refused us for good. The CLI stops and exits 1. Default: log only.
   */
  readonly onFatal?: (err: Error) => void;
  /** How often policy files are re-read besides change events (default 10 s). */
  readonly policyPollMs?: number;
  /** Reconnect backoff of the Workload API stream (default 250 ms growing to 5 s). */
  readonly workloadBackoff?: BackoffOptions;
  /**
   * Where audit lines go when config.log.audit is on (the CLI: stdout).
   * Absent: through `logger` at info, as the `audit` field (docs/audit-log.md).
   */
  readonly auditOut?: AuditWriter | undefined;
}

/** A built sidecar. */
export interface Sidecar {
  /**
   * Loads policies and binds the admin and outbound listeners, then returns
   * without waiting for the first SVID; inbound listeners bind once it
   * arrives (see docs/decisions/007-sidecar-lifecycle.md). Rejects on a bad
   * policy file, an address in use or a bad Workload API address; call
   * stop() afterwards to release what did start.
   */
  start(): Promise<void>;
  /**
   * /readyz turns 503, listeners stop accepting, in-flight requests get
   * config.drain.timeoutMs to finish, then the Workload API source and the
   * admin listener close. Resolves with the requests and tunnels cut off.
   * Safe to call more than once and before or after a failed start().
   */
  stop(reason: string): Promise<{ abandoned: number }>;
  /** Ready = an unexpired SVID and every listener bound; otherwise the reasons. */
  ready(): Readiness;
  listeners(): readonly ListenerState[];
  readonly metrics: SidecarMetrics;
}

/** Workload API on a local socket: retrying is cheap, and an agent restart should be noticed within seconds. */
const DEFAULT_WORKLOAD_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 5_000 };

/** The span pipeline, loaded by start() when config.tracing.enabled; the proxies are made after it. */
interface TracingHolder {
  current: Tracing | undefined;
}

/** Everything {@link buildSidecar} makes once and the listeners and the lifecycle share. */
interface SidecarParts {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: SidecarMetrics;
  readonly enforcementObserver: AuthMetrics;
  /** The credentials home: the one SVID, bundle set and secure context every listener and dialer uses. */
  readonly credentials: Credentials;
  readonly svid: SvidWatch;
  readonly link: WorkloadLink;
  readonly policies: Policies;
  readonly headers: IdentityHeaders;
  readonly contextHandles: ContextHandles | undefined;
  readonly jwtBundles: JwtBundleHolder;
  readonly endUserAuth: EndUserAuth | undefined;
  readonly audit: AuditLog | undefined;
  readonly tokens: OutboundTokens;
  /** Classification and egress decision counters of transparent outbound. */
  readonly egressObserver: EgressMetrics;
  readonly tracing: TracingHolder;
}

/** Builds the sidecar described by `config`; nothing is bound until start(). */
export function buildSidecar(config: Config, deps: SidecarDeps): Sidecar {
  const parts = buildParts(config, deps);
  return new SidecarInstance(parts, listenerSlots(parts), new SidecarLifecycle(parts.log, deps.onFatal));
}

/** The shared parts: metrics, the credentials home fed by the SVID watch, policies, headers, audit and token sources. */
function buildParts(config: Config, deps: SidecarDeps): SidecarParts {
  const log = deps.logger;
  const clock = deps.clock ?? systemClock;
  const metrics = new SidecarMetrics({ maxPeerIds: config.metrics.maxPeerIds });
  const enforcementObserver = new AuthMetrics(metrics.registry);
  metrics.workloadApiConnected(false);
  const identity = new IdentityHolder();
  const credentials = new Credentials({ svidSource: identity, bundleSource: identity, logger: log.child({ component: 'credentials' }) });
  // Records why there are no credentials yet ('workload.no_svid'), for dials before the first SVID.
  credentials.update();
  const policies = new Policies({
    logger: log.child({ component: 'policy' }),
    clock,
    onReloadError: () => metrics.policyReloadError(),
    trustDomain: config.spiffe.trustDomain,
    ...(deps.policyPollMs !== undefined ? { pollMs: deps.policyPollMs } : {}),
  });
  const svid = new SvidWatch({ identity, credentials, metrics, onTrustDomain: (s) => policies.setTrustDomain(s.id.trustDomain), clock, logger: log });
  const link = new WorkloadLink({
    endpoint: config.spiffe.endpointSocket,
    env: deps.env,
    hint: config.spiffe.svidHint,
    backoff: deps.workloadBackoff ?? DEFAULT_WORKLOAD_BACKOFF,
    clock,
    logger: log,
    onConnection: (up, err) => {
      metrics.workloadApiConnected(up);
      svid.lastWatchError = up ? undefined : err;
    },
  });
  const base = { config, log, clock, metrics, enforcementObserver, credentials, svid, link, policies };
  return { ...base, ...requestParts(base, deps.auditOut), tracing: { current: undefined } };
}

/** The parts the proxies use per request: identity headers, context handles, end-user auth, audit, outbound tokens. */
function requestParts(p: Pick<SidecarParts, 'config' | 'log' | 'clock' | 'metrics' | 'enforcementObserver' | 'credentials' | 'link'>, auditOut: AuditWriter | undefined) {
  const { config, clock, log } = p;
  // One store for both directions: the inbound side issues handles, the outbound side of this same process resolves them.
  const handleConfig = config.auth?.contextHandle ?? null;
  const contextHandles = handleConfig === null ? undefined : new ContextHandles({ ...handleConfig, clock });
  const headers = new IdentityHeaders({
    spiffeIdHeader: config.headers.spiffeId,
    xfccHeader: config.headers.xfcc,
    user: new UserHeaders({ ...config.headers.user, claimHeaders: config.headers.claimHeaders }),
    ...(contextHandles !== undefined ? { contextHandleHeader: contextHandles.header } : {}),
  });
  const jwtBundles = new JwtBundleHolder();
  const endUserAuth =
    config.auth === null ? undefined : EndUserAuth.build(config.auth, { identity: p.credentials, jwtBundles, observer: p.enforcementObserver, clock, logger: log });
  if (endUserAuth !== undefined) p.enforcementObserver.trackKeySets(() => endUserAuth.authenticator.status(), () => clock.now());
  const audit =
    config.log.audit === 'on'
      ? new AuditLog({ out: auditOut, clock, denyBurst: config.log.auditDenyBurst, denyPerMinute: config.log.auditDenyPerMinute, logger: log.child({ component: 'audit' }) })
      : undefined;
  const tokens = outboundTokens(config, p.credentials, p.link, new ExchangeMetrics(p.metrics.registry), clock, log);
  return { contextHandles, headers, jwtBundles, endUserAuth, audit, tokens, egressObserver: new EgressMetrics(p.metrics.registry) };
}

/** One slot per configured proxy listener, in the order readiness and /debug/listeners list them. */
function listenerSlots(p: SidecarParts): ListenerSlot[] {
  const slots: ListenerSlot[] = [];
  if (p.config.inbound) slots.push(inboundSlot(p, p.config.inbound));
  if (p.config.outbound) slots.push(outboundSlot(p, p.config.outbound));
  for (const t of p.config.tcp) slots.push(t.direction === 'inbound' ? tcpInboundSlot(p, t) : tcpOutboundSlot(p, t));
  return slots;
}

type InboundConfig = NonNullable<Config['inbound']>;
type OutboundConfig = NonNullable<Config['outbound']>;
type TcpTunnel = Config['tcp'][number];

/** What every proxy takes: metrics, limits, clock, logger, and the credentials home (also as the two sources the outbound side still reads). */
function common(p: SidecarParts) {
  const { metrics, clock, log: logger, credentials } = p;
  return { metrics, limits: p.config.limits, clock, logger, credentials, svidSource: credentials, bundleSource: credentials } as const;
}

/** The audit sink as the proxies take it: spread, so their options need no audit-specific type here. */
function auditOption(p: SidecarParts): { audit?: AuditLog } {
  return p.audit === undefined ? {} : { audit: p.audit };
}

/** The HTTP inbound proxy; it binds after the first SVID (its TLS server takes it at creation). */
function inboundSlot(p: SidecarParts, c: InboundConfig): ListenerSlot {
  const { config, credentials } = p;
  return new ListenerSlot('inbound', formatAddress(c.listen), 'after-first-svid', () =>
    createInbound({
      ...common(p),
      listen: c.listen,
      app: c.app,
      appProtocol: c.appProtocol,
      appPorts: c.appPorts,
      webSocket: c.webSocket,
      localId: () => credentials.getX509Svid().id,
      policy: p.policies.provider(c.policy),
      headers: p.headers,
      authenticator: p.endUserAuth?.authenticator,
      forwardToken: config.auth?.forwardToken,
      contextHandles: p.contextHandles,
      connectionSink: auditedConnections(p.audit),
      stripRequestHeaders: config.headers.stripInbound,
      enforcementObserver: p.enforcementObserver,
      accessLog: config.log.accessLog,
      ...auditOption(p),
      tracer: p.tracing.current?.forDirection('inbound') ?? null,
      ...(c.transparent ? { originalPort, opaquePorts: c.opaquePorts, reservedPorts: sidecarPorts(config) } : {}),
    }),
  );
}

/** The HTTP outbound proxy; it binds at start, and answers 503 `no_svid` until the first SVID. */
function outboundSlot(p: SidecarParts, c: OutboundConfig): ListenerSlot {
  const { config, tokens } = p;
  return new ListenerSlot('outbound', formatAddress(c.listen), 'at-start', () =>
    createOutbound({
      ...common(p),
      listen: c.listen,
      upstreams: c.upstreams.map((u) => ({
        host: u.host,
        port: u.port,
        address: u.address,
        server: peerIdMatcher(u.server),
        protocol: u.protocol,
        webSocket: u.webSocket,
        token: tokenOptions(u.token),
      })),
      transparent: transparentOptions(config, p.credentials, p.egressObserver),
      exchanger: tokens.exchanger,
      jwtSvids: tokens.jwtSvids,
      credentialHeaders: tokens.credentialHeaders,
      credentialCookies: tokens.credentialCookies,
      contextHandles: p.contextHandles,
      headers: p.headers,
      accessLog: config.log.accessLog,
      ...auditOption(p),
      tracer: p.tracing.current?.forDirection('outbound') ?? null,
    }),
  );
}

/** A raw TCP tunnel, inbound: verified callers the tunnel's policy allows reach `target`. */
function tcpInboundSlot(p: SidecarParts, t: TcpTunnel & { direction: 'inbound' }): ListenerSlot {
  return new ListenerSlot(`tcp-inbound:${t.name}`, formatAddress(t.listen), 'after-first-svid', () =>
    createTcpInbound({
      ...common(p),
      logger: p.log.child({ tunnel: t.name }),
      listen: t.listen,
      target: t.target,
      authorizeCaller: tcpEnforcement(p, p.policies.provider(t.policy, 'tcp'), formatAddress(t.target)),
    }),
  );
}

/** A raw TCP tunnel, outbound: each local connection becomes an mTLS connection to a server `server` accepts. */
function tcpOutboundSlot(p: SidecarParts, t: TcpTunnel & { direction: 'outbound' }): ListenerSlot {
  return new ListenerSlot(`tcp-outbound:${t.name}`, formatAddress(t.listen), 'at-start', () =>
    createTcpOutbound({ ...common(p), logger: p.log.child({ tunnel: t.name }), listen: t.listen, address: t.address, server: peerIdMatcher(t.server) }),
  );
}

/**
 * Transparent mode's options, or undefined when it is off. Without a
 * configured expectation, servers must be of our own trust domain: the
 * configured one, else the one of our current SVID (docs/config.md).
 */
function transparentOptions(config: Config, identity: X509SvidSource, observer: EgressMetrics): TransparentOptions | undefined {
  const t = config.outbound?.transparent;
  if (!t) return undefined;
  const td = config.spiffe.trustDomain;
  const server = t.server ? peerIdMatcher(t.server) : td ? matchMemberOf(td) : matchOwnTrustDomain(identity);
  return {
    server,
    webSocket: t.webSocket,
    token: tokenOptions(t.token),
    ...(t.ports ? { ports: t.ports } : {}),
    // Every redirected connection is classified by its original destination (docs/decisions/014-outbound-classification.md).
    originalDestination,
    meshCidrs: t.meshCidrs,
    opaquePorts: t.opaquePorts,
    detectTimeoutMs: t.detectTimeoutMs,
    egress: t.egress.map((e) => ({ ...(e.host !== null ? { host: e.host } : {}), ...(e.cidr !== null ? { cidr: e.cidr } : {}), ...(e.ports !== null ? { ports: e.ports } : {}) })),
    observer,
  };
}

type OutboundToken = UpstreamRoute['token'];

/** The outbound proxy's view of a configured token mode. */
function tokenOptions(t: OutboundToken): { mode: OutboundToken['mode']; audience?: string; scope?: string; obtain?: boolean } {
  return {
    mode: t.mode,
    ...(t.audience !== null ? { audience: t.audience } : {}),
    ...(t.scope !== null ? { scope: t.scope } : {}),
    ...(t.obtain === true ? { obtain: true } : {}),
  };
}

/** The outbound token sources the configuration needs: the RFC 8693 client, our JWT-SVIDs, the credentials to strip. */
interface OutboundTokens {
  readonly exchanger: TokenExchanger | undefined;
  readonly jwtSvids: JwtSvidTokens | undefined;
  readonly credentialHeaders: readonly string[];
  readonly credentialCookies: readonly string[];
}

/**
 * Builds the outbound token sources. JWT-SVIDs are fetched through
 * `fetcher` (the Workload API client, once connected); the SVID for RFC 8705
 * client authentication is read per new connection pool from `identity`.
 */
function outboundTokens(config: Config, identity: X509SvidSource, fetcher: JwtSvidFetcher, observer: ExchangeMetrics, clock: Clock, logger: Logger): OutboundTokens {
  const o = config.outbound;
  const locations = config.auth?.jwt.flatMap((p) => p.tokenLocations ?? []) ?? [];
  const credentialHeaders = locations.flatMap((l) => ('header' in l ? [l.header.toLowerCase()] : []));
  const credentialCookies = locations.flatMap((l) => ('cookie' in l ? [l.cookie] : []));
  if (o === null) return { exchanger: undefined, jwtSvids: undefined, credentialHeaders, credentialCookies };
  const modes = [...o.upstreams.map((u) => u.token.mode), ...(o.transparent ? [o.transparent.token.mode] : [])];
  const needsJwtSvids = modes.includes('jwt-svid') || o.tokenExchange?.actorToken === true || o.tokenExchange?.clientAuth.method === 'jwt-svid';
  const jwtSvids = needsJwtSvids ? new JwtSvidTokens({ fetcher, clock, logger }) : undefined;
  let exchanger: TokenExchanger | undefined;
  if (o.tokenExchange !== null) {
    const { caFile, ...options } = o.tokenExchange;
    let ca: string | undefined;
    try {
      ca = caFile === undefined ? undefined : readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new AppError('app.auth', `app: cannot read outbound.tokenExchange.caFile ${caFile}: ${describeError(err)}`, { cause: err });
    }
    const clientCertificate = rotatingClientCertificate(identity);
    try {
      exchanger = new TokenExchanger({ ...options, ...(ca !== undefined ? { ca } : {}) }, { clock, logger, observer, clientCertificate, ...(jwtSvids ? { jwtSvids } : {}) });
    } catch (err) {
      throw new AppError('app.auth', `app: outbound token exchange cannot start: ${describeError(err)}`, { cause: err });
    }
  }
  return { exchanger, jwtSvids, credentialHeaders, credentialCookies };
}

/** Our SVID for RFC 8705 client authentication: the same object while the SVID is the same, so connections are pooled until a rotation. */
function rotatingClientCertificate(identity: X509SvidSource): () => TlsClientCertificate {
  let last: { svid: X509Svid; cert: TlsClientCertificate } | undefined;
  return () => {
    const svid = identity.getX509Svid();
    if (last?.svid !== svid) last = { svid, cert: { certChainPem: svid.certChainPem(), keyPem: svid.privateKeyPem() } };
    return last.cert;
  };
}

/**
 * The sidecar's own listener ports. Transparent inbound refuses them as
 * original destination ports: the inbound proxy must never dial, on a
 * caller's behalf, a listener that acts with this workload's identity.
 */
function sidecarPorts(config: Config): number[] {
  const ports = [config.admin.listen.port];
  if (config.inbound) ports.push(config.inbound.listen.port);
  if (config.outbound) ports.push(config.outbound.listen.port);
  for (const t of config.tcp) ports.push(t.listen.port);
  return ports;
}

/** The original port of a redirected connection (transparent inbound). */
const originalPort = (socket: Socket): number | undefined => originalDestination(socket)?.port;

/** A TCP tunnel's connection check: the enforcement stage's, without a request or token. */
function tcpEnforcement(p: SidecarParts, policy: () => Policy, dst: string): (peerId: SpiffeId, peerAddress: string | undefined) => Decision {
  const stage = new InboundEnforcement({ policy, headers: p.headers, observer: p.enforcementObserver, connections: auditedConnections(p.audit) });
  return (peerId, peerAddress) => stage.decideConnection(peerId, peerAddress, dst);
}

/** Connection decisions into the audit log (method TCP), or nowhere when it is off. */
function auditedConnections(audit: AuditLog | undefined): ConnectionDecisionSink | undefined {
  if (audit === undefined) return undefined;
  return { connectionDecided: (peerId, peerAddress, dst, d) => audit.connectionDone(peerId.toString(), peerAddress, dst, d) };
}

/**
 * A built sidecar: the lifecycle (start once, stop once), its listener
 * slots and the admin listener, over the parts {@link buildParts} wired.
 */
class SidecarInstance implements Sidecar {
  readonly metrics: SidecarMetrics;
  readonly #p: SidecarParts;
  readonly #slots: readonly ListenerSlot[];
  readonly #lifecycle: SidecarLifecycle;
  #admin: AdminServer | undefined;
  #adminBound = false;

  constructor(parts: SidecarParts, slots: readonly ListenerSlot[], lifecycle: SidecarLifecycle) {
    this.#p = parts;
    this.#slots = slots;
    this.#lifecycle = lifecycle;
    this.metrics = parts.metrics;
  }

  start(): Promise<void> {
    return this.#lifecycle.start(() => this.#start());
  }

  stop(reason: string): Promise<{ abandoned: number }> {
    return this.#lifecycle.stop(() => this.#drain(reason));
  }

  ready(): Readiness {
    const reasons = this.#p.svid.reasons();
    if (this.#p.endUserAuth !== undefined) reasons.push(...this.#p.endUserAuth.readinessReasons());
    if (!this.#adminBound) reasons.push('admin listener not bound');
    for (const s of this.#slots) if (!s.bound) reasons.push(`${s.name} listener not bound yet (${s.address})`);
    return { ready: reasons.length === 0, reasons };
  }

  listeners(): ListenerState[] {
    return [{ name: 'admin', address: formatAddress(this.#p.config.admin.listen), bound: this.#adminBound }, ...this.#slots.map((s) => s.state())];
  }

  async #start(): Promise<void> {
    const { config, log, policies } = this.#p;
    // Transparent mode cannot pick app ports or classify connections without the addon: refuse to start rather than misroute.
    if (config.inbound?.transparent || config.outbound?.transparent) loadOriginalDestination();
    if (config.tracing.enabled) {
      this.#p.tracing.current = await loadTracing(config.tracing);
      log.info({ endpoint: config.tracing.endpoint, sampling_ratio: config.tracing.samplingRatio }, 'tracing on');
    }
    await policies.load(config.inbound ? [config.inbound.policy] : []);
    await policies.load(
      config.tcp.flatMap((t) => (t.direction === 'inbound' ? [t.policy] : [])),
      'tcp',
    );
    await this.#startAdmin();
    await this.#bind('at-start');
    this.#p.endUserAuth?.start();
    this.#connect();
    policies.watch();
  }

  async #startAdmin(): Promise<void> {
    const { config, log } = this.#p;
    const admin = createAdminServer({
      listen: config.admin.listen,
      metrics: this.#p.metrics,
      readiness: () => this.ready(),
      debug: this.#debugSources(),
      appProbes: config.admin.appProbes,
      clock: this.#p.clock,
      logger: log.child({ component: 'admin' }),
    });
    this.#admin = admin;
    try {
      await admin.start();
    } catch (err) {
      throw new AppError('app.listen_failed', `app: admin cannot listen on ${formatAddress(config.admin.listen)}: ${describeError(err)}`, { cause: err });
    }
    this.#adminBound = true;
    log.info({ listener: 'admin', address: formatAddress(config.admin.listen) }, 'listening');
  }

  /** /debug/svid, /debug/config, /debug/listeners and, with an HTTP inbound, /debug/policy (the policy in force, reloads included). */
  #debugSources(): Parameters<typeof createAdminServer>[0]['debug'] {
    const { config, policies, svid } = this.#p;
    const current = config.inbound ? policies.provider(config.inbound.policy) : undefined;
    return {
      svid: () => svid.debug(),
      config: () => redactedConfig(config),
      listeners: () => this.listeners(),
      ...(current ? { policy: () => current().describe() } : {}),
    };
  }

  /** Binds the slots of `stage`, one after the other, in configuration order. */
  async #bind(stage: SlotStage): Promise<void> {
    for (const s of this.#slots) if (s.stage === stage) await s.bind(this.#p.log);
  }

  /** Waits in the background for the first SVID; then the credentials home is fed and the inbound slots bind. */
  #connect(): void {
    const { link, svid, endUserAuth, jwtBundles } = this.#p;
    link
      .connect(async (source) => {
        svid.install(source);
        await this.#bind('after-first-svid');
      })
      .catch((err: unknown) => this.#lifecycle.fatal(err));
    if (endUserAuth?.needsJwtBundles) link.followJwtBundles(jwtBundles);
  }

  async #drain(reason: string): Promise<{ abandoned: number }> {
    const timeoutMs = this.#p.config.drain.timeoutMs;
    this.#admin?.setDraining();
    await this.#p.link.abort();
    const live = this.#slots.filter((s) => s.listener !== undefined);
    const inFlight = live.reduce((n, s) => n + s.listener!.activeRequests(), 0);
    this.#p.log.info({ reason, in_flight: inFlight, drain_timeout_ms: timeoutMs }, 'draining');
    await Promise.all(live.map((s) => s.listener!.stopAccepting()));
    const results = await Promise.all(live.map((s) => this.#drainOne(s, timeoutMs)));
    for (const s of live) s.close();
    const abandoned = results.reduce((n, r) => n + r, 0);
    await this.#closeParts();
    this.#p.log.info({ abandoned }, abandoned === 0 ? 'stopped' : 'stopped; some requests were cut off at the drain deadline');
    return { abandoned };
  }

  /** Drains one listener; resolves with the requests or tunnels cut off. */
  #drainOne(s: ListenerSlot, timeoutMs: number): Promise<number> {
    return s.listener!.drain(timeoutMs).then(
      (r) => r.abandoned,
      (err: unknown) => {
        this.#p.log.error({ listener: s.name, err: describeError(err) }, 'drain failed');
        return s.listener!.activeRequests();
      },
    );
  }

  /** After every request is over: flush, close and release everything else, admin last. */
  async #closeParts(): Promise<void> {
    const p = this.#p;
    // Reports the denies the rate limit still holds back.
    p.audit?.close();
    p.contextHandles?.clear();
    p.policies.close();
    p.svid.close();
    await p.endUserAuth?.close();
    await p.tokens.exchanger?.close();
    // Sends the spans still queued; bounded by tracing.exportTimeout.
    await p.tracing.current?.shutdown().catch((err: unknown) => p.log.warn({ err: describeError(err) }, 'tracing: final span export failed'));
    p.link.close();
    await this.#admin?.stop();
    this.#adminBound = false;
  }
}
