import { parseForwardedInto, parseIpInto, type IpFamily } from './ip-address.ts';
import type { PolicyPrincipal, PolicyRequest } from './policy-request.ts';
import type { RemoteAddress } from './remote-address.ts';

const UNPARSED = -1;

/**
 * What rules look at while one request is evaluated: the request's parts
 * read once, and the peer's and client's addresses parsed on first use into
 * buffers owned by the view. `evaluate` keeps a single view and resets it
 * per call: evaluation is synchronous and calls nothing that could evaluate
 * again, so the view is never shared by two evaluations at once.
 */
export class RequestView {
  id = '';
  trustDomain = '';
  method: string | undefined = undefined;
  /** The normalised path. */
  path: string | undefined = undefined;
  principal: PolicyPrincipal | undefined = undefined;
  /** Set when a rule's SPIFFE condition accepted the peer (caller_not_listed vs no_matching_rule). */
  callerListed = false;
  readonly peerBytes = new Uint8Array(16);
  readonly remoteBytes = new Uint8Array(16);
  #peerAddress: string | undefined = undefined;
  #forwardedFor: readonly string[] | undefined = undefined;
  #remote: RemoteAddress | undefined = undefined;
  #peerFamily: number = UNPARSED;
  #remoteFamily: number = UNPARSED;

  /** Starts a new evaluation. */
  reset(request: PolicyRequest, path: string | undefined, remote: RemoteAddress | undefined): void {
    this.id = request.peerId.toString();
    this.trustDomain = request.peerId.trustDomain.name;
    this.method = request.method;
    this.path = path;
    this.principal = request.principal;
    this.callerListed = false;
    this.#peerAddress = request.peerAddress;
    this.#forwardedFor = request.forwardedFor;
    this.#remote = remote;
    this.#peerFamily = UNPARSED;
    this.#remoteFamily = UNPARSED;
  }

  /** Drops references to the request, so the view keeps nothing alive between evaluations. */
  clear(): void {
    this.method = undefined;
    this.path = undefined;
    this.principal = undefined;
    this.#peerAddress = undefined;
    this.#forwardedFor = undefined;
    this.#remote = undefined;
  }

  /** True for an HTTP request, false for a TCP connection (no method, no path). */
  get isHttp(): boolean {
    return this.method !== undefined || this.path !== undefined;
  }

  /** Family of the direct peer's address (bytes in {@link peerBytes}); 0 when absent or unparsable. */
  peerFamily(): IpFamily {
    if (this.#peerFamily === UNPARSED) {
      const a = this.#peerAddress;
      this.#peerFamily = typeof a === 'string' ? parseIpInto(a, 0, a.length, this.peerBytes) : 0;
    }
    return this.#peerFamily as IpFamily;
  }

  /** Family of the original client's address (bytes in {@link remoteBytes}); 0 when not known or not trusted. */
  remoteFamily(): IpFamily {
    if (this.#remoteFamily === UNPARSED) this.#remoteFamily = this.#resolveRemote();
    return this.#remoteFamily as IpFamily;
  }

  #resolveRemote(): IpFamily {
    const r = this.#remote;
    if (r === undefined || !r.trusts(this.id, this.trustDomain)) return 0;
    if (r.trustedHops === 0) {
      const a = this.#peerAddress;
      return typeof a === 'string' ? parseIpInto(a, 0, a.length, this.remoteBytes) : 0;
    }
    const list = this.#forwardedFor;
    if (list === undefined || list.length < r.trustedHops) return 0;
    const entry = list[list.length - r.trustedHops];
    return typeof entry === 'string' ? parseForwardedInto(entry, this.remoteBytes) : 0;
  }
}
