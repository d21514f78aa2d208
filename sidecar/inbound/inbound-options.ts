import type { Socket } from 'node:net';
import type { Address } from '../core/index.ts';
import type { EnforcementObserver, InboundEnforcementOptions, RequestAuthenticator } from '../enforcement/index.ts';
import type { ProxyListenerOptions } from '../forward/index.ts';
import type { Policy } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';

/**
 * Options of createInbound (inbound-proxy.ts). `listen` is where callers
 * (peer sidecars) connect with mTLS; `credentials` (or, without it, the two
 * sources) present our SVID and verify callers; the access log line also
 * names the rule, subject and client_id.
 */
export interface InboundOptions extends ProxyListenerOptions {
  /** The local app. */
  readonly app: Address;
  /** How the app speaks: HTTP/1.1, or HTTP/2 without TLS (gRPC servers). */
  readonly appProtocol: 'http1' | 'h2c';
  /**
   * Further apps chosen by the port in the request's Host / :authority
   * (e.g. gRPC on 9090 beside HTTP on 8080); other requests go to `app`.
   * Chosen after authentication; the same policy applies to every port.
   */
  readonly appPorts?: readonly InboundAppPortOptions[] | undefined;
  /** Our own SPIFFE ID (the XFCC `By=`). */
  readonly localId: () => SpiffeId;
  /**
   * Whether callers may open WebSockets to the app. Default false: after
   * the 101 the connection is an uninspected tunnel (docs/security.md).
   */
  readonly webSocket?: boolean | undefined;
  /** The current policy; called per request, so a reload applies to the next request. */
  readonly policy: () => Policy;
  /** End-user token authentication; absent: tokens are neither checked nor stripped. */
  readonly authenticator?: RequestAuthenticator | undefined;
  /** Keep the end user's credential for the app (default false). */
  readonly forwardToken?: boolean | undefined;
  /** Context handles issued to the app (InboundEnforcementOptions.contextHandles); none when absent. */
  readonly contextHandles?: InboundEnforcementOptions['contextHandles'];
  /** Records connection decisions of opaque ports (the audit log). */
  readonly connectionSink?: InboundEnforcementOptions['connections'];
  /**
   * Request headers removed before the app besides the identity headers:
   * method-override and original-URL headers by default, so the app runs
   * the method and path that were authorized (docs/security.md).
   */
  readonly stripRequestHeaders?: readonly string[] | undefined;
  /** Token, dry-run and refusal counters. */
  readonly enforcementObserver?: EnforcementObserver | undefined;
  /**
   * Transparent inbound: the port a redirected connection was originally
   * dialled on (sidecar/transparent), or undefined when it was not
   * redirected. When given, that port picks the app (see
   * OriginalPortApps); without it, apps are chosen by Host.
   */
  readonly originalPort?: ((socket: Socket) => number | undefined) | undefined;
  /** Original ports joined to the app as raw TCP after the connection check (with originalPort only). */
  readonly opaquePorts?: readonly number[] | undefined;
  /** The sidecar's own listener ports, refused as original ports. */
  readonly reservedPorts?: readonly number[] | undefined;
}

/** One entry of {@link InboundOptions.appPorts}. */
export interface InboundAppPortOptions {
  /** The port callers address. */
  readonly port: number;
  readonly app: Address;
  readonly appProtocol: 'http1' | 'h2c';
}
