/**
 * The composition root: turns one validated Config into a running sidecar
 * (Workload API source, policies, proxies, admin listener, metrics) and owns
 * its lifecycle: start, readiness, SVID rotation bookkeeping, drain, stop.
 *
 * Only the CLI and tests call it. It reads no process globals: the logger,
 * clock and environment come in as deps.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createAdminServer, type AdminServer, type Readiness } from './admin/index.ts';
import { AuditLog, type AuditWriter } from './audit/index.ts';
import { ContextHandles } from './auth/index.ts';
import { formatAddress, peerIdMatcher, redactedConfig, type Address, type Config, type Upstream } from './config/index.ts';
import { describeError, errorCode, systemClock, type Clock, type Logger, type TimerHandle } from './core/index.ts';
import type { ProxyListener } from './forward/index.ts';
import { InboundEnforcement, type ConnectionDecisionSink, type EnforcementObserver } from './enforcement/index.ts';
import { IdentityHeaders, UserHeaders } from './headers/index.ts';
import { createInbound, createTcpInbound } from './inbound/index.ts';
import { AuthMetrics, ExchangeMetrics, SidecarMetrics } from './metrics/index.ts';
import { JwtSvidTokens, TokenExchanger, type JwtSvidFetcher, type TlsClientCertificate } from './exchange/index.ts';
import { createOutbound, createTcpOutbound, matchOwnTrustDomain, type TransparentOptions } from './outbound/index.ts';
import type { Decision, Policy } from './policy/index.ts';
import type { SpiffeId } from './spiffe/index.ts';
import { AppError, ConnectionTrackingClient, EndUserAuth, IdentityHolder, JwtBundleHolder, Policies, svidDebug } from './runtime/index.ts';
import { matchMemberOf } from './spiffe/index.ts';
import { loadOriginalDestination, originalDestination } from './transparent/index.ts';
import { loadTracing, type Tracing } from './tracing/index.ts';
import type { X509Svid, X509SvidSource } from './svid/index.ts';
import { JwtSource, X509Source, type BackoffOptions, type X509SourceUpdate } from './workload/index.ts';

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

/** One listener of the sidecar, for readiness and logs. */
export interface ListenerState {
  /** `admin`, `inbound`, `outbound`, `tcp-inbound:<name>` or `tcp-outbound:<name>`. */
  readonly name: string;
  /** The configured `host:port`. */
  readonly address: string;
  readonly bound: boolean;
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
/** Node timers overflow above 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Slot {
  readonly name: string;
  readonly address: string;
  /** Inbound listeners need our SVID to be built (their TLS server takes it at creation). */
  readonly needsSvid: boolean;
  readonly make: () => ProxyListener;
  listener: ProxyListener | undefined;
  bound: boolean;
}

/**
 * Transparent mode's options, or undefined when it is off. Without a
 * configured expectation, servers must be of our own trust domain: the
 * configured one, else the one of our current SVID (docs/config.md).
 */
function transparentOptions(config: Config, identity: X509SvidSource): TransparentOptions | undefined {
  const t = config.outbound?.transparent;
  if (!t) return undefined;
  const td = config.spiffe.trustDomain;
  const server = t.server ? peerIdMatcher(t.server) : td ? matchMemberOf(td) : matchOwnTrustDomain(identity);
  return { server, webSocket: t.webSocket, token: tokenOptions(t.token), ...(t.ports ? { ports: t.ports } : {}) };
}

type OutboundToken = Upstream['token'];

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
    let last: { svid: X509Svid; cert: TlsClientCertificate } | undefined;
    // The same object while the SVID is the same, so connections are pooled until a rotation.
    const clientCertificate = (): TlsClientCertificate => {
      const svid = identity.getX509Svid();
      if (last?.svid !== svid) last = { svid, cert: { certChainPem: svid.certChainPem(), keyPem: svid.privateKeyPem() } };
      return last.cert;
    };
    try {
      exchanger = new TokenExchanger({ ...options, ...(ca !== undefined ? { ca } : {}) }, { clock, logger, observer, clientCertificate, ...(jwtSvids ? { jwtSvids } : {}) });
    } catch (err) {
      throw new AppError('app.auth', `app: outbound token exchange cannot start: ${describeError(err)}`, { cause: err });
    }
  }
  return { exchanger, jwtSvids, credentialHeaders, credentialCookies };
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
function tcpEnforcement(
  policy: () => Policy,
  headers: IdentityHeaders,
  observer: EnforcementObserver,
  connections: ConnectionDecisionSink | undefined,
  dst: string,
): (peerId: SpiffeId, peerAddress: string | undefined) => Decision {
  const stage = new InboundEnforcement({ policy, headers, observer, connections });
  return (peerId, peerAddress) => stage.decideConnection(peerId, peerAddress, dst);
}

/** Connection decisions into the audit log (method TCP), or nowhere when it is off. */
function auditedConnections(audit: AuditLog | undefined): ConnectionDecisionSink | undefined {
  if (audit === undefined) return undefined;
  return { connectionDecided: (peerId, peerAddress, dst, d) => audit.connectionDone(peerId.toString(), peerAddress, dst, d) };
}

/** Builds the sidecar described by `config`; nothing is bound until start(). */
export function buildSidecar(config: Config, deps: SidecarDeps): Sidecar {
  const log = deps.logger;
  const clock = deps.clock ?? systemClock;
  const metrics = new SidecarMetrics({ maxPeerIds: config.metrics.maxPeerIds });
  const enforcementObserver = new AuthMetrics(metrics.registry);
  metrics.workloadApiConnected(false);
  const identity = new IdentityHolder();
  const policies = new Policies({
    logger: log.child({ component: 'policy' }),
    clock,
    onReloadError: () => metrics.policyReloadError(),
    trustDomain: config.spiffe.trustDomain,
    ...(deps.policyPollMs !== undefined ? { pollMs: deps.policyPollMs } : {}),
  });
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
    config.auth === null ? undefined : EndUserAuth.build(config.auth, { identity, jwtBundles, observer: enforcementObserver, clock, logger: log });
  if (endUserAuth !== undefined) enforcementObserver.trackKeySets(() => endUserAuth.authenticator.status(), () => clock.now());
  const common = { metrics, limits: config.limits, clock, logger: log, svidSource: identity, bundleSource: identity } as const;
  const exchangeObserver = new ExchangeMetrics(metrics.registry);
  const audit =
    config.log.audit === 'on'
      ? new AuditLog({
          out: deps.auditOut,
          clock,
          denyBurst: config.log.auditDenyBurst,
          denyPerMinute: config.log.auditDenyPerMinute,
          logger: log.child({ component: 'audit' }),
        })
      : undefined;
  // Spread rather than named so the proxies' options need no audit-specific type here; they hand it to HttpFront.
  const auditOption = audit === undefined ? {} : { audit };
  let client: ConnectionTrackingClient | undefined;
  const jwtSvidFetcher: JwtSvidFetcher = {
    async fetchJwtSvid(audience) {
      if (client === undefined) throw new AppError('app.workload_api', 'app: the Workload API is not connected yet');
      return client.fetchJwtSvid({ audience: [audience] });
    },
  };
  const tokens = outboundTokens(config, identity, jwtSvidFetcher, exchangeObserver, clock, log);

  /** The span pipeline, loaded by start() when config.tracing.enabled (the proxies are made after it). */
  let tracing: Tracing | undefined;
  const slots: Slot[] = [];
  const slot = (name: string, address: Address, needsSvid: boolean, make: () => ProxyListener): void => {
    slots.push({ name, address: formatAddress(address), needsSvid, make, listener: undefined, bound: false });
  };
  if (config.inbound) {
    const c = config.inbound;
    slot('inbound', c.listen, true, () =>
      createInbound({
        ...common,
        listen: c.listen,
        app: c.app,
        appProtocol: c.appProtocol,
        appPorts: c.appPorts,
        webSocket: c.webSocket,
        localId: () => identity.getX509Svid().id,
        policy: policies.provider(c.policy),
        headers,
        authenticator: endUserAuth?.authenticator,
        forwardToken: config.auth?.forwardToken,
        contextHandles,
        connectionSink: auditedConnections(audit),
        stripRequestHeaders: config.headers.stripInbound,
        enforcementObserver,
        accessLog: config.log.accessLog,
        ...auditOption,
        tracer: tracing?.forDirection('inbound') ?? null,
        ...(c.transparent ? { originalPort, opaquePorts: c.opaquePorts, reservedPorts: sidecarPorts(config) } : {}),
      }),
    );
  }
  if (config.outbound) {
    const c = config.outbound;
    slot('outbound', c.listen, false, () =>
      createOutbound({
        ...common,
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
        transparent: transparentOptions(config, identity),
        exchanger: tokens.exchanger,
        jwtSvids: tokens.jwtSvids,
        credentialHeaders: tokens.credentialHeaders,
        credentialCookies: tokens.credentialCookies,
        contextHandles,
        headers,
        accessLog: config.log.accessLog,
        ...auditOption,
        tracer: tracing?.forDirection('outbound') ?? null,
      }),
    );
  }
  for (const t of config.tcp) {
    if (t.direction === 'inbound') {
      slot(`tcp-inbound:${t.name}`, t.listen, true, () => {
        const policy = policies.provider(t.policy, 'tcp');
        return createTcpInbound({
          ...common,
          logger: log.child({ tunnel: t.name }),
          listen: t.listen,
          target: t.target,
          authorizeCaller: tcpEnforcement(policy, headers, enforcementObserver, auditedConnections(audit), formatAddress(t.target)),
        });
      });
    } else {
      slot(`tcp-outbound:${t.name}`, t.listen, false, () =>
        createTcpOutbound({ ...common, logger: log.child({ tunnel: t.name }), listen: t.listen, address: t.address, server: peerIdMatcher(t.server) }),
      );
    }
  }

  let admin: AdminServer | undefined;
  let adminBound = false;
  let lastWatchError: Error | undefined;
  const creating = new AbortController();
  /** The work done when the first SVID arrives (inbound binding); stop() waits for it. */
  let serving: Promise<void> | undefined;
  let started = false;
  let stopping: Promise<{ abandoned: number }> | undefined;
  let fatalReported = false;
  let lastSvid: X509Svid | undefined;
  let expiryTimer: TimerHandle | undefined;
  let jwtSource: JwtSource | undefined;

  const fatal = (err: Error): void => {
    if (fatalReported || stopping) return;
    fatalReported = true;
    log.error({ code: errorCode(err), err: describeError(err) }, 'sidecar cannot continue');
    deps.onFatal?.(err);
  };

  const bind = async (s: Slot): Promise<void> => {
    const listener = s.make();
    s.listener = listener;
    try {
      await listener.start();
    } catch (err) {
      throw new AppError('app.listen_failed', `app: ${s.name} cannot listen on ${s.address}: ${describeError(err)}`, { cause: err });
    }
    s.bound = true;
    log.info({ listener: s.name, address: s.address }, 'listening');
  };

  /** Logs once when the SVID in use expires without a replacement (readiness already reports it). */
  const armExpiry = (svid: X509Svid): void => {
    expiryTimer?.cancel();
    const left = svid.notAfter.getTime() - clock.now();
    expiryTimer = clock.setTimeout(
      () => {
        if (lastSvid !== svid) return;
        if (svid.notAfter.getTime() > clock.now()) return armExpiry(svid);
        log.error({ spiffe_id: svid.id.toString(), not_after: svid.notAfter.toISOString() }, 'X509-SVID expired and no new one arrived: not ready');
      },
      Math.min(Math.max(left, 0), MAX_TIMER_MS),
    );
  };

  const noteSvid = (svid: X509Svid): void => {
    if (lastSvid !== undefined && svid.certificates[0]!.der.equals(lastSvid.certificates[0]!.der)) return;
    const rotated = lastSvid !== undefined;
    lastSvid = svid;
    metrics.svidUpdated(svid.notAfter, rotated);
    policies.setTrustDomain(svid.id.trustDomain);
    armExpiry(svid);
    log.info(
      { spiffe_id: svid.id.toString(), serial: svid.certificates[0]!.serialNumber, not_after: svid.notAfter.toISOString() },
      rotated ? 'X509-SVID rotated' : 'X509-SVID received',
    );
  };

  const onUpdate = (ev: X509SourceUpdate): void => {
    if (ev.svid === undefined) {
      log.warn({ svids: ev.svids.length }, 'X509-SVID withdrawn by the Workload API: refusing new inbound connections until one is issued');
      return;
    }
    noteSvid(ev.svid);
  };

  const onSource = async (source: X509Source): Promise<void> => {
    if (stopping) {
      source.close();
      return;
    }
    identity.set(source);
    source.on('update', onUpdate);
    noteSvid(source.getX509Svid());
    for (const s of slots) if (s.needsSvid) await bind(s);
  };

  const startSource = (): void => {
    const c = new ConnectionTrackingClient({
      address: config.spiffe.endpointSocket,
      ...(deps.env ? { env: deps.env } : {}),
      clock,
      logger: log,
      backoff: deps.workloadBackoff ?? DEFAULT_WORKLOAD_BACKOFF,
    });
    client = c;
    c.onConnection = (up, err) => {
      metrics.workloadApiConnected(up);
      lastWatchError = up ? undefined : err;
    };
    log.info({ endpoint: config.spiffe.endpointSocket }, 'waiting for the first X509-SVID');
    serving = X509Source.create({
      client: c,
      clock,
      logger: log,
      signal: creating.signal,
      ...(config.spiffe.svidHint !== '' ? { hint: config.spiffe.svidHint } : {}),
    }).then(onSource, (err: unknown) => {
      if (creating.signal.aborted) return;
      throw new AppError('app.workload_api', `app: the Workload API at ${config.spiffe.endpointSocket} refused us: ${describeError(err)}`, { cause: err });
    });
    serving.catch((err: unknown) => fatal(err instanceof Error ? err : new Error(String(err))));
    if (endUserAuth?.needsJwtBundles) {
      // JWT-SVIDs as bearer tokens: their keys are the Workload API's JWT bundles.
      void JwtSource.create({ client: c, clock, logger: log, signal: creating.signal }).then(
        (s) => {
          if (stopping) s.close();
          else {
            jwtSource = s;
            jwtBundles.set(s);
          }
        },
        (err: unknown) => {
          if (!creating.signal.aborted) log.error({ err: describeError(err) }, 'JWT bundles unavailable: JWT-SVID bearer tokens get 503');
        },
      );
    }
  };

  const svidReasons = (): string[] => {
    const source = identity.source;
    if (source === undefined) {
      const why = lastWatchError ? `: ${describeError(lastWatchError).replace(/\s*Resolution note:\s*$/, '').slice(0, 300)}` : '';
      return [`no SVID yet${why}`];
    }
    if (source.isReady()) return [];
    if (lastSvid !== undefined && lastSvid.notAfter.getTime() <= clock.now()) {
      return [`SVID expired at ${lastSvid.notAfter.toISOString()} and no new one arrived`];
    }
    return ['no SVID: the Workload API withdrew it'];
  };

  const ready = (): Readiness => {
    const reasons = svidReasons();
    if (endUserAuth !== undefined) reasons.push(...endUserAuth.readinessReasons());
    if (!adminBound) reasons.push('admin listener not bound');
    for (const s of slots) if (!s.bound) reasons.push(`${s.name} listener not bound yet (${s.address})`);
    return { ready: reasons.length === 0, reasons };
  };

  const debugSvid = (): unknown => {
    const source = identity.source;
    if (source === undefined) return { ready: false, svid: null, reasons: svidReasons() };
    let svid: X509Svid;
    try {
      svid = source.getX509Svid();
    } catch (err) {
      return { ready: false, svid: null, reasons: [describeError(err)] };
    }
    return { ready: source.isReady(), svid: svidDebug(svid, source.bundles()) };
  };

  /** /debug/policy: the inbound policy in force (reloads included), for `spiffe-sidecar explain --admin`; none without HTTP inbound. */
  const debugPolicy = (): { policy?: () => unknown } => {
    if (!config.inbound) return {};
    const current = policies.provider(config.inbound.policy);
    return { policy: () => current().describe() };
  };

  const start = async (): Promise<void> => {
    if (started || stopping) throw new AppError('app.lifecycle', 'app: start() may be called once, before stop()');
    started = true;
    // Transparent inbound cannot pick app ports without the addon: refuse to start rather than misroute.
    if (config.inbound?.transparent) loadOriginalDestination();
    if (config.tracing.enabled) {
      tracing = await loadTracing(config.tracing);
      log.info({ endpoint: config.tracing.endpoint, sampling_ratio: config.tracing.samplingRatio }, 'tracing on');
    }
    await policies.load(config.inbound ? [config.inbound.policy] : []);
    await policies.load(
      config.tcp.flatMap((t) => (t.direction === 'inbound' ? [t.policy] : [])),
      'tcp',
    );
    admin = createAdminServer({
      listen: config.admin.listen,
      metrics,
      readiness: ready,
      debug: {
        svid: debugSvid,
        config: () => redactedConfig(config),
        listeners: () => [
          { name: 'admin', address: formatAddress(config.admin.listen), bound: adminBound },
          ...slots.map((s) => ({ name: s.name, address: s.address, bound: s.bound })),
        ],
        ...debugPolicy(),
      },
      appProbes: config.admin.appProbes,
      clock,
      logger: log.child({ component: 'admin' }),
    });
    try {
      await admin.start();
    } catch (err) {
      throw new AppError('app.listen_failed', `app: admin cannot listen on ${formatAddress(config.admin.listen)}: ${describeError(err)}`, { cause: err });
    }
    adminBound = true;
    log.info({ listener: 'admin', address: formatAddress(config.admin.listen) }, 'listening');
    for (const s of slots) if (!s.needsSvid) await bind(s);
    endUserAuth?.start();
    startSource();
    policies.watch();
  };

  const drainAll = async (reason: string): Promise<{ abandoned: number }> => {
    const timeoutMs = config.drain.timeoutMs;
    admin?.setDraining();
    creating.abort();
    await serving?.catch(() => {});
    const live = slots.filter((s) => s.listener !== undefined);
    const inFlight = live.reduce((n, s) => n + s.listener!.activeRequests(), 0);
    log.info({ reason, in_flight: inFlight, drain_timeout_ms: timeoutMs }, 'draining');
    await Promise.all(live.map((s) => s.listener!.stopAccepting()));
    const results = await Promise.all(
      live.map((s) =>
        s.listener!.drain(timeoutMs).catch((err: unknown) => {
          log.error({ listener: s.name, err: describeError(err) }, 'drain failed');
          return { abandoned: s.listener!.activeRequests() };
        }),
      ),
    );
    for (const s of live) {
      s.listener!.close();
      s.bound = false;
    }
    const abandoned = results.reduce((n, r) => n + r.abandoned, 0);
    // Every request is over: report the denies the rate limit still holds back.
    audit?.close();
    contextHandles?.clear();
    policies.close();
    expiryTimer?.cancel();
    identity.source?.close();
    jwtSource?.close();
    await endUserAuth?.close();
    await tokens.exchanger?.close();
    // Sends the spans still queued; bounded by tracing.exportTimeout.
    await tracing?.shutdown().catch((err: unknown) => log.warn({ err: describeError(err) }, 'tracing: final span export failed'));
    client?.close();
    await admin?.stop();
    adminBound = false;
    log.info({ abandoned }, abandoned === 0 ? 'stopped' : 'stopped; some requests were cut off at the drain deadline');
    return { abandoned };
  };

  return {
    start,
    stop(reason: string) {
      stopping ??= drainAll(reason);
      return stopping;
    },
    ready,
    listeners: () => [
      { name: 'admin', address: formatAddress(config.admin.listen), bound: adminBound },
      ...slots.map((s) => ({ name: s.name, address: s.address, bound: s.bound })),
    ],
    metrics,
  };
}
