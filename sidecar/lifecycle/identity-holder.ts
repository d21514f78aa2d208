import { X509BundleSet } from '../bundle/index.ts';
import type { X509Svid, X509SvidSource } from '../svid/index.ts';
import { WorkloadApiError, type X509Source } from '../workload/index.ts';

const NO_BUNDLES = X509BundleSet.of([]);

/**
 * The identity every proxy reads, available before the Workload API has
 * answered. X509Source.create() resolves only with the first SVID, but the
 * listeners are built at start-up; the holder stands in until then and
 * throws 'workload.no_svid' (the same fact as a withdrawn SVID), so an outbound dial fails with 503 `no_svid` and no
 * handshake is ever attempted with half a credential. An empty bundle set
 * before that trusts nobody.
 */
export class IdentityHolder implements X509SvidSource {
  #source: X509Source | undefined;

  /** Installs the source once it has its first SVID. */
  set(source: X509Source): void {
    this.#source = source;
  }

  /** The source, once installed. */
  get source(): X509Source | undefined {
    return this.#source;
  }

  /** The current default SVID; throws 'workload.no_svid' before the first one (and what the source throws after). */
  getX509Svid(): X509Svid {
    if (this.#source === undefined) throw new WorkloadApiError('workload.no_svid', 'no X509-SVID yet: waiting for the Workload API');
    return this.#source.getX509Svid();
  }

  /** The current bundles; empty (nobody trusted) before the first update. */
  bundles(): X509BundleSet {
    return this.#source === undefined ? NO_BUNDLES : this.#source.bundles();
  }
}
