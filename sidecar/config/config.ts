import type { AuthConfig } from './auth-section.ts';
import type { TokenExchangeOptions } from '../exchange/index.ts';
import type { SpiffeId, TrustDomain } from '../spiffe/index.ts';
import type { Address, ProxyLimits } from '../core/index.ts';
import type { TracingConfig } from './tracing-section.ts';

/** Log levels, as pino names them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the local app speaks: HTTP/1.1, or HTTP/2 without TLS (gRPC apps). */
export type AppProtocol = 'http1' | 'h2c';
/** What two sidecars speak inside mTLS to one upstream. */
export type UpstreamProtocol = 'http1' | 'h2';

/**
 * Which peer SPIFFE IDs are acceptable, in go-spiffe authorizer terms:
 * exactly one ID, one of a list, or any member of a trust domain.
 */
export type PeerIdMatch =
  | { readonly kind: 'id'; readonly id: SpiffeId }
  | { readonly kind: 'oneOf'; readonly ids: readonly SpiffeId[] }
  | { readonly kind: 'memberOf'; readonly trustDomain: TrustDomain };

/**
 * Where inbound authorization comes from: a policy file, or (when none is
 * configured) "any authenticated caller from our own trust domain".
 */
export type PolicySource = { readonly kind: 'sameTrustDomain' } | { readonly kind: 'file'; readonly path: string };

/** Workload API settings. */
export interface SpiffeSettings {
  /** Workload API URI (`unix:///...` or `tcp://IP:port`); checked only for its scheme here. */
  readonly endpointSocket: string;
  /** Pick the SVID with this hint; '' means the first SVID. */
  readonly svidHint: string;
  /** Our trust domain; null means "the trust domain of our own SVID", learnt at runtime. */
  readonly trustDomain: TrustDomain | null;
}

/**
 * A further app port behind the inbound proxy: requests whose Host /
 * :authority names `port` go to `app` instead of the default app (a pod
 * whose app serves HTTP on one port and gRPC on another).
 */
export interface InboundAppPort {
  /** The port the caller addressed (Host / :authority). */
  readonly port: number;
  readonly app: Address;
  readonly appProtocol: AppProtocol;
}

/** The HTTP inbound proxy: mTLS listener in front of the local app. */
export interface InboundConfig {
  readonly listen: Address;
  /** The default app: every request whose Host port is not in appPorts. */
  readonly app: Address;
  readonly appProtocol: AppProtocol;
  /** Further app ports chosen by the Host / :authority port; unique ports. */
  readonly appPorts: readonly InboundAppPort[];
  readonly policy: PolicySource;
  /** Callers may open WebSockets to the app (an uninspected tunnel once upgraded). Default false. */
  readonly webSocket: boolean;
  /**
   * Transparent inbound: the pod's iptables rules redirect app ports to the
   * inbound listener, and the port a caller originally dialled (read with
   * SO_ORIGINAL_DST) selects the app port on `app`'s host. Needs the
   * original-destination addon; default false.
   */
  readonly transparent: boolean;
  /**
   * Original destination ports forwarded as raw TCP (databases, brokers)
   * after the policy's connection check; only with `transparent`.
   */
  readonly opaquePorts: readonly number[];
}

/** What the outbound proxy does with the app's credentials for one upstream (docs/config.md, `token`). */
export type OutboundTokenMode = 'none' | 'forward' | 'jwt-svid' | 'exchange' | 'txn';

/** An upstream's token settings; `audience` is filled with the upstream's SPIFFE ID when that is one ID. */
export interface OutboundToken {
  readonly mode: OutboundTokenMode;
  /** The token's audience (`jwt-svid`, `exchange`); null for the other modes. */
  readonly audience: string | null;
  /** Narrower scope asked for in an exchange; null for none. */
  readonly scope: string | null;
  /** `txn` only: obtain the transaction token here (the edge); absent means false. */
  readonly obtain?: boolean;
}

/** `outbound.tokenExchange`: the RFC 8693 client, with the CA as a file read at start. */
export type TokenExchangeConfig = Omit<TokenExchangeOptions, 'ca'> & { readonly caFile?: string };

/**
 * One route of the HTTP outbound proxy: the host the app calls and the peer
 * it leads to (forward/'s `UpstreamPool` is the connections to a peer).
 */
export interface UpstreamRoute {
  /** Lowercase host (IPv6 without brackets) matched against Host / :authority. */
  readonly host: string;
  /** When set, only requests for exactly this port match; null matches any port. */
  readonly port: number | null;
  /**
   * The peer sidecar's inbound listener. null only in transparent mode: the
   * request's own host and port are dialled and the route pins the identity.
   */
  readonly address: Address | null;
  /** Which server identities this upstream may present. */
  readonly server: PeerIdMatch;
  readonly protocol: UpstreamProtocol;
  /** The app may open WebSockets to this host. Default false. */
  readonly webSocket: boolean;
  /** The app's credentials towards this upstream; default mode `none`. */
  readonly token: OutboundToken;
}

/**
 * Transparent (intercepted) outbound: the pod's iptables rules send the
 * app's connections to the outbound listener, which forwards a request for
 * a host no upstream routes to that host's own name and port, over mTLS.
 */
export interface TransparentOutbound {
  /** What such servers must present; null means any ID of our own trust domain. */
  readonly server: PeerIdMatch | null;
  /** The Host ports that may be forwarded this way; null means any. */
  readonly ports: readonly number[] | null;
  /** WebSockets may be opened to hosts dialled by name. Default false. */
  readonly webSocket: boolean;
  /** The app's credentials towards hosts dialled by name; default mode `none`. */
  readonly token: OutboundToken;
  /**
   * The mesh (`meshCidrs`): original destinations in these networks must
   * be reached over mTLS; default the private ranges 10/8, 172.16/12,
   * 192.168/16 and fc00::/7 (docs/decisions/014-outbound-classification.md).
   */
  readonly meshCidrs: readonly string[];
  /** Original destination ports taken as opaque TCP without reading a byte; default linkerd2's list (25, 587, 3306, 4444, 5432, 6379, 9300, 11211). */
  readonly opaquePorts: readonly number[];
  /** The longest wait for the app's first bytes before a connection counts as opaque TCP (`detectTimeout`, default 1 s). */
  readonly detectTimeoutMs: number;
  /** `outbound.egress.allow`: destinations outside the mesh the app may reach; empty (the default) refuses all. */
  readonly egress: readonly EgressRule[];
}

/**
 * One entry of the egress allow-list: a host name (HTTP Host, TLS SNI) or
 * a network (the original destination address), with optional ports.
 * Exactly one of `host` and `cidr` is set.
 */
export interface EgressRule {
  /** A lowercase DNS name, or `*.` and one: any name one or more labels below it. */
  readonly host: string | null;
  /** An IPv4 or IPv6 network in `address/prefix` form, or one address. */
  readonly cidr: string | null;
  /** Only these ports; null means any. */
  readonly ports: readonly number[] | null;
}

/** The HTTP outbound proxy: plaintext local listener → mTLS to peer sidecars. */
export interface OutboundConfig {
  readonly listen: Address;
  readonly upstreams: readonly UpstreamRoute[];
  /** null when transparent mode is off: only configured upstreams are reachable. */
  readonly transparent: TransparentOutbound | null;
  /** The RFC 8693 client for upstreams in `exchange` mode; null when none is configured. */
  readonly tokenExchange: TokenExchangeConfig | null;
}

/** A raw TCP tunnel accepting mTLS and forwarding plaintext to a local target. */
export interface InboundTcpTunnel {
  readonly name: string;
  readonly direction: 'inbound';
  readonly listen: Address;
  readonly target: Address;
  readonly policy: PolicySource;
}

/** A raw TCP tunnel accepting plaintext locally and dialling a peer over mTLS. */
export interface OutboundTcpTunnel {
  readonly name: string;
  readonly direction: 'outbound';
  readonly listen: Address;
  readonly address: Address;
  readonly server: PeerIdMatch;
}

/** One raw TCP tunnel (no HTTP parsing). */
export type TcpTunnel = InboundTcpTunnel | OutboundTcpTunnel;

/** Names of the identity headers set towards the local app (lowercase). */
export interface HeaderNames {
  readonly spiffeId: string;
  readonly xfcc: string;
  /** The verified end user's headers (docs/end-user-identity.md). */
  readonly user: UserHeaderNames;
  /** Claims copied into headers of their own. */
  readonly claimHeaders: readonly ClaimHeader[];
  /**
   * Request headers the inbound proxy removes before the app sees them
   * (lowercase): by default the method-override and original-URL headers,
   * so the app runs the method and path the policy authorized.
   */
  readonly stripInbound: readonly string[];
}

/** Names of the headers carrying the verified end user. */
export interface UserHeaderNames {
  readonly subject: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: string;
  readonly claims: string;
}

/** One claim → header mapping; `claim` is the claim's path, one segment per nesting level. */
export interface ClaimHeader {
  readonly claim: readonly string[];
  readonly header: string;
}

/** One request header the sidecar sends with an app probe (name as configured). */
export interface AppProbeHeader {
  readonly name: string;
  readonly value: string;
}

/**
 * An app probe the admin listener forwards: the kubelet's httpGet probe of
 * a captured port, rewritten by the injector to `/app-probe/<port><path>`
 * (docs/kubernetes.md "Probes"). Only configured probes are served.
 */
export interface AppProbe {
  /** The app's port on 127.0.0.1. */
  readonly port: number;
  /** The request-target sent to the app: a path starting with '/', optionally with a query. */
  readonly target: string;
  /** Always 'HTTP': the sidecar speaks plain HTTP to the app over loopback. */
  readonly scheme: 'HTTP';
  /** Sent to the app as given (the probe's httpHeaders); nothing from the caller is forwarded. */
  readonly headers: readonly AppProbeHeader[];
  /** How long the app gets to answer (the probe's timeoutSeconds). */
  readonly timeoutMs: number;
}

/** The whole validated sidecar configuration; deeply frozen. */
export interface Config {
  /** Where it came from (file name or label), for messages. */
  readonly source: string;
  readonly spiffe: SpiffeSettings;
  /** null when the HTTP inbound proxy is disabled. */
  readonly inbound: InboundConfig | null;
  /** null when the HTTP outbound proxy is disabled. */
  readonly outbound: OutboundConfig | null;
  readonly tcp: readonly TcpTunnel[];
  readonly headers: HeaderNames;
  /** End-user token authentication on inbound; null when not configured. */
  readonly auth: AuthConfig | null;
  readonly admin: { readonly listen: Address; readonly appProbes: readonly AppProbe[] };
  /** Applied to every proxy listener; the config sets every field, the upstream budget included. */
  readonly limits: ProxyLimits;
  readonly drain: { readonly timeoutMs: number };
  /** Level, access log and audit log (docs/audit-log.md); the fields are those of settings-sections.ts's LogSettings. */
  readonly log: {
    readonly level: LogLevel;
    readonly accessLog: boolean;
    readonly audit: 'off' | 'on';
    readonly auditDenyBurst: number;
    readonly auditDenyPerMinute: number;
  };
  readonly metrics: { readonly maxPeerIds: number };
  /** W3C trace context and OTLP span export (docs/tracing.md); off by default. */
  readonly tracing: TracingConfig;
  /** Non-fatal findings the CLI should log at warn on start. */
  readonly warnings: readonly string[];
}
