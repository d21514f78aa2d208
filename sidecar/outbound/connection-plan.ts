import type { ClientHelloServerName } from './client-hello.ts';
import type { EgressDecision, EgressPolicy } from './egress-policy.ts';

/** What a redirected connection carries, as the outbound classifies it. */
export type StreamProtocol = 'http' | 'tls' | 'tcp';

/** How the class was found: by the port alone, by the first bytes, or by their absence within the detection time. */
export type Detection = 'port' | 'bytes' | 'timeout';

/** Where the original destination is: inside the configured mesh networks, or outside (egress). */
export type Zone = 'mesh' | 'egress';

/** What the outbound does with one redirected connection. */
export type ConnectionPlan =
  /** Served by the HTTP front and routed by Host as in transparent mode without an original destination. */
  | { readonly kind: 'http' }
  /** Served by the HTTP front; each request is checked against the egress allow-list. */
  | { readonly kind: 'http-egress' }
  /** Joined over SPIFFE mTLS (ALPN opaque TCP) to the original destination's sidecar. */
  | { readonly kind: 'mesh-tunnel' }
  /** Joined over plain TCP to `host` (the SNI name, or the original address) at the original port. */
  | { readonly kind: 'egress-tunnel'; readonly host: string; readonly decision: EgressDecision }
  /** Closed. */
  | { readonly kind: 'refuse'; readonly decision: EgressDecision };

const HTTP: ConnectionPlan = Object.freeze({ kind: 'http' });
const HTTP_EGRESS: ConnectionPlan = Object.freeze({ kind: 'http-egress' });
const MESH_TUNNEL: ConnectionPlan = Object.freeze({ kind: 'mesh-tunnel' });

/**
 * Decides what happens to a redirected connection of class `protocol`
 * headed for `address`:`port` in `zone`. Pure.
 *
 * Inside the mesh every byte goes over mTLS: HTTP by Host (the name gives
 * the identity expectation), TLS from the app and other TCP as an opaque
 * stream to the original destination (the app's own TLS then runs inside
 * ours). Outside the mesh the egress allow-list decides: HTTP per request
 * (by Host, later), TLS by its SNI name, which is then what gets dialled
 * (so a ClientHello naming an allowed host cannot open a connection to any
 * other address), else by the original address; other TCP by the address
 * only.
 */
export function planConnection(
  protocol: StreamProtocol,
  zone: Zone,
  address: string,
  port: number,
  sni: ClientHelloServerName | undefined,
  egress: EgressPolicy,
): ConnectionPlan {
  if (zone === 'mesh') return protocol === 'http' ? HTTP : MESH_TUNNEL;
  if (protocol === 'http') return HTTP_EGRESS;
  if (protocol === 'tls' && sni?.kind === 'sni') {
    const byName = egress.allowsName(sni.name, port);
    if (byName.allow) return { kind: 'egress-tunnel', host: sni.name, decision: byName };
  }
  const byAddress = egress.allowsAddress(address, port);
  return byAddress.allow ? { kind: 'egress-tunnel', host: address, decision: byAddress } : { kind: 'refuse', decision: byAddress };
}
