import type { LookupFunction } from 'node:net';
import { formatAuthority, type Address, type Logger, type ProxyLimits } from '../core/index.ts';
import { H2Exchange, LOCAL_APP_CONN, type ConnInfo, type Exchange } from '../forward/index.ts';
import type { IdentityHeaders } from '../headers/index.ts';
import { quoteUntrusted, type IdMatcher } from '../spiffe/index.ts';
import type { OriginalDestination } from '../transparent/index.ts';
import { CidrSet } from './cidr-set.ts';
import { noopClassificationObserver } from './classification-observer.ts';
import { EgressHttp } from './egress-http.ts';
import { EgressPolicy } from './egress-policy.ts';
import { OUTBOUND_ANSWERS, type OutboundAnswer } from './outbound-answer.ts';
import { OutboundCredentials } from './outbound-credentials.ts';
import type { Destination, OutboundDestinations } from './outbound-destinations.ts';
import type { OutboundOptions, OutboundUpstreamOptions } from './outbound-options.ts';
import { RouteTable, parseAuthority } from './route-table.ts';
import { OutboundTokenStep, type OutboundTokenServices } from './token-mode.ts';
import { DEFAULT_MESH_CIDRS, routeOutbound, type TransparentOptions } from './transparent-route.ts';

/** A configured upstream in the route table; `dest` is null for a transparent pin (no address). */
export interface ConfiguredRoute {
  readonly address: Address | null;
  readonly server: IdMatcher;
  readonly protocol: 'http1' | 'h2';
  readonly webSocket: boolean;
  readonly dest: Destination | null;
  readonly token: OutboundTokenStep;
}

/**
 * The connection info of the app's redirected HTTP connections to a mesh
 * address (transparent capture). Same values as LOCAL_APP_CONN; a separate
 * object so routing can tell that the kernel saw a mesh destination.
 */
export const REDIRECTED_MESH_CONN: ConnInfo = Object.freeze({ peer: undefined, peerId: '', caller: undefined });

/** What the router is made with besides the options: the shared parts the wiring builds. */
export interface OutboundRouterParts {
  readonly destinations: OutboundDestinations;
  readonly logger: Logger;
  /** The dial guard's resolver; set in transparent mode. */
  readonly transparentLookup: LookupFunction | undefined;
  readonly maxDialled: number;
}

/**
 * The outbound's routing: each request is refused, or sent to the
 * destination its Host / :authority names (a configured upstream, or in
 * transparent mode a host dialled by its own name), after the upstream's
 * token step and the identity-header strip. Requests of connections headed
 * outside the mesh go through the egress allow-list (EgressHttp).
 */
export class OutboundRouter {
  readonly routes: RouteTable<ConfiguredRoute>;
  /** The configured upstreams as `host[:port]`, for the listening log line. */
  readonly routeNames: readonly string[];
  /** The mesh CIDRs; set only when redirected connections are classified. */
  readonly mesh: CidrSet | undefined;
  readonly egress: EgressPolicy;
  readonly #transparent: TransparentOptions | undefined;
  readonly #transparentToken: OutboundTokenStep | undefined;
  readonly #headers: IdentityHeaders;
  readonly #destinations: OutboundDestinations;
  readonly #egressHttp: EgressHttp | undefined;
  /** The original destinations of HTTP connections headed outside the mesh, by their per-connection ConnInfo. */
  readonly #egressConns = new WeakMap<ConnInfo, OriginalDestination>();

  constructor(o: OutboundOptions, parts: OutboundRouterParts) {
    const transparent = o.transparent;
    this.#transparent = transparent;
    this.#headers = o.headers;
    this.#destinations = parts.destinations;
    const tokens: OutboundTokenServices = {
      credentials: new OutboundCredentials(o.credentialHeaders, o.credentialCookies),
      exchanger: o.exchanger,
      jwtSvids: o.jwtSvids,
      contextHandles: o.contextHandles,
    };
    this.#transparentToken = transparent ? new OutboundTokenStep('transparent', transparent.token, tokens) : undefined;
    const entries = o.upstreams.map((u) => this.#entry(u, tokens));
    this.routes = new RouteTable(entries);
    this.routeNames = entries.map(formatAuthority);
    // Classification of redirected connections (docs/decisions/014-outbound-classification.md).
    // Only with the original destination known: then an IP-literal Host inside the mesh is dialled too (routeOutbound).
    this.mesh = transparent?.originalDestination !== undefined ? new CidrSet(transparent.meshCidrs ?? DEFAULT_MESH_CIDRS) : undefined;
    this.egress = new EgressPolicy(transparent?.egress ?? []);
    this.#egressHttp = transparent?.originalDestination === undefined ? undefined : this.#createEgressHttp(transparent, o.limits, parts);
  }

  /** Answers or forwards one request: the HttpFront's route step. */
  route(ex: Exchange): void {
    if (ex.path.charCodeAt(0) !== 0x2f) {
      // Absolute-form (`GET http://elsewhere/`) is how an open forward proxy
      // is used; the app must address a configured host by Host instead.
      ex.answer(OUTBOUND_ANSWERS.absolute_form, `request target ${quoteUntrusted(ex.path, 100)} refused: only origin-form targets ("/path") are forwarded, this sidecar is not a forward proxy`);
      return;
    }
    if (ex.conn !== LOCAL_APP_CONN && ex.conn !== REDIRECTED_MESH_CONN) {
      const egress = this.#egressConns.get(ex.conn);
      if (egress !== undefined) return this.#egressHttp!.route(ex, egress);
    }
    // An IP-literal Host is dialled only when the kernel says the app
    // addressed a mesh IP (a redirected connection); on the explicit
    // listener an IP literal names no workload and stays refused.
    const t = this.#transparent;
    const r = routeOutbound(ex.authority, this.routes, t, ex.conn === REDIRECTED_MESH_CONN ? this.mesh : undefined);
    switch (r.kind) {
      case 'refuse':
        ex.answer(r.answer, r.message);
        return;
      case 'upstream':
        this.#forward(ex, r.route.dest!, r.route.webSocket, r.route.token);
        return;
      case 'dial': {
        const d = this.#destinations.dialled(r.host, r.port, r.pin?.server ?? t!.server, r.pin?.protocol ?? t!.protocol ?? 'http1');
        if (r.pin !== undefined) this.#forward(ex, d, r.pin.webSocket, r.pin.token);
        else this.#forward(ex, d, t!.webSocket === true, this.#transparentToken!);
        return;
      }
    }
  }

  /** The ConnInfo of one HTTP connection headed outside the mesh, so each of its requests finds its destination. */
  egressConn(dst: OriginalDestination): ConnInfo {
    const conn: ConnInfo = { peer: undefined, peerId: '', caller: undefined };
    this.#egressConns.set(conn, dst);
    return conn;
  }

  /** Lets in-flight requests finish and closes every upstream connection. */
  async close(): Promise<void> {
    await Promise.all([this.#destinations.close(), this.#egressHttp?.close()]);
  }

  /** Destroys every upstream connection now. */
  destroy(): void {
    this.#destinations.destroy();
    this.#egressHttp?.destroy();
  }

  /** Checks the upgrade, runs the token step and strips identity headers, then sends. */
  #forward(ex: Exchange, d: Destination, webSocket: boolean, token: OutboundTokenStep): void {
    if (ex.upgrade !== '' && !webSocket) {
      ex.answer(OUTBOUND_ANSWERS.upgrade_not_allowed, `WebSocket to ${d.name} is not permitted: the upstream does not set webSocket: true`);
      return;
    }
    // The token step reads the context handle header before the identity strip below removes it.
    const v = token.apply(ex);
    ex.headers = this.#headers.outbound(ex.headers);
    // A promise only when a token must be fetched (an exchange or a JWT-SVID not cached).
    if (v instanceof Promise) void v.then((answer) => send(ex, d, answer));
    else send(ex, d, v);
  }

  #entry(u: OutboundUpstreamOptions, tokens: OutboundTokenServices): { host: string; port: number | null; value: ConfiguredRoute } {
    const parsed = u.port === undefined ? parseAuthority(u.host) : undefined;
    const host = parsed?.host ?? u.host.toLowerCase();
    const port = u.port !== undefined ? u.port : (parsed?.port ?? null);
    const name = formatAuthority({ host, port });
    if (u.address === null && this.#transparent === undefined) {
      throw new TypeError(`outbound: upstream ${name} has no address, which only transparent mode allows`);
    }
    const dest = u.address === null ? null : this.#destinations.configured(name, u.address, u.server, u.protocol);
    const token = new OutboundTokenStep(name, u.token, tokens);
    return { host, port, value: { address: u.address, server: u.server, protocol: u.protocol, webSocket: u.webSocket === true, dest, token } };
  }

  #createEgressHttp(t: TransparentOptions, limits: ProxyLimits, parts: OutboundRouterParts): EgressHttp {
    return new EgressHttp({
      policy: this.egress,
      lookup: parts.transparentLookup!,
      limits,
      observer: t.observer ?? noopClassificationObserver,
      logger: parts.logger,
      maxDestinations: parts.maxDialled,
      webSocket: t.webSocket === true,
    });
  }
}

/** Sends the request to `d`, or the token step's answer instead. */
function send(ex: Exchange, d: Destination, answer: OutboundAnswer | null): void {
  if (ex.clientGone) return;
  if (answer !== null) {
    ex.answer(answer);
    return;
  }
  // Upgrades need HTTP/1.1; HTTP/2 requests (gRPC) keep HTTP/2 so trailers survive.
  const useH2 = ex.upgrade === '' && (d.protocol === 'h2' || ex instanceof H2Exchange);
  ex.forwardTo(useH2 ? d.h2 : d.h1);
}
