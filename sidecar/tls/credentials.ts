import { createSecureContext, type SecureContext, type SecureVersion } from 'node:tls';
import { describeError, silentLogger, type Logger } from '../core/index.ts';
import type { X509BundleSet } from '../bundle/index.ts';
import type { X509Svid, X509SvidSource } from '../svid/index.ts';
import { CredentialsError } from './credentials-error.ts';
import { SecureContextStore, currentBundleSet, type SecureContextSnapshot, type X509BundleSetProvider } from './secure-context-store.ts';

/** Options of {@link Credentials}. */
export interface CredentialsOptions {
  /** Where our SVID is read, only when {@link Credentials.update} runs. */
  readonly svidSource: X509SvidSource;
  /** Where the bundle set is read, likewise. */
  readonly bundleSource: X509BundleSetProvider;
  /** Lowest TLS version; default and floor 'TLSv1.2'. */
  readonly minVersion?: SecureVersion | undefined;
  /** Highest TLS version; default Node's ('TLSv1.3'). */
  readonly maxVersion?: SecureVersion | undefined;
  /** Most change listeners at once (default 4096); one more is refused with 'tls.credentials_too_many_listeners'. */
  readonly maxListeners?: number | undefined;
  /** Where a listener that threw is reported (it never reaches the source). */
  readonly logger?: Logger | undefined;
}

const DEFAULT_MAX_LISTENERS = 4096;

/**
 * The credentials home: one process-wide view of our X509-SVID and trust
 * bundles (one {@link SecureContextStore}, one generation counter, one
 * client-side `SecureContext`), published when the owner calls
 * {@link update} and announced to every listener and dialer through
 * {@link onCredentialsChange}. Readers never go to the sources themselves:
 * a rotation takes effect for every new handshake at the moment `update()`
 * publishes it (docs/decisions/013-credentials-home.md).
 *
 * Until a snapshot exists (no SVID yet, or the sources withdrew it) the
 * readers throw what the sources threw, so a dial fails with `no_svid` and a
 * server refuses new connections rather than present half a credential.
 */
export class Credentials implements X509SvidSource {
  readonly #store: SecureContextStore;
  readonly #bundleSource: X509BundleSetProvider;
  readonly #listeners = new Set<() => void>();
  readonly #maxListeners: number;
  readonly #logger: Logger;
  #current: SecureContextSnapshot | undefined;
  #context: SecureContext | undefined;
  #problem: unknown = new CredentialsError('tls.credentials_unpublished', 'tls: no credentials published yet: update() has not run');
  /** Published snapshots so far; a withdrawal counts as one, so listeners of a re-issued identical SVID still hear of it. */
  #generation = 0;

  constructor(o: CredentialsOptions) {
    const max = o.maxListeners ?? DEFAULT_MAX_LISTENERS;
    if (!Number.isInteger(max) || max < 1) throw new CredentialsError('tls.credentials_bad_option', `tls: maxListeners must be a positive integer, got ${String(max)}`);
    this.#maxListeners = max;
    this.#bundleSource = o.bundleSource;
    this.#logger = o.logger ?? silentLogger;
    this.#store = new SecureContextStore({
      svidSource: o.svidSource,
      bundleSource: o.bundleSource,
      ...(o.minVersion ? { minVersion: o.minVersion } : {}),
      ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
    });
  }

  /**
   * Re-reads the sources and publishes what changed: a new snapshot (new SVID
   * or bundle-set object) or its withdrawal (the sources now throw). Returns
   * true when something was published; listeners have then run. Never throws.
   */
  update(): boolean {
    let next: SecureContextSnapshot | undefined;
    try {
      next = this.#store.snapshot();
    } catch (err) {
      this.#problem = err;
      if (this.#current === undefined) return false;
      this.#publish(undefined);
      return true;
    }
    if (next === this.#current) return false;
    this.#publish(next);
    return true;
  }

  /** The one secure-context store behind this home (read only by update()). */
  get store(): SecureContextStore {
    return this.#store;
  }

  /** True while a snapshot is published (an SVID to present). */
  get available(): boolean {
    return this.#current !== undefined;
  }

  /** Changes with every publication (rotation, bundle change, withdrawal); 0 before the first. */
  generation(): number {
    return this.#generation;
  }

  /** The published snapshot; throws what the sources threw when there is none. */
  snapshot(): SecureContextSnapshot {
    if (this.#current === undefined) throw this.#problem;
    return this.#current;
  }

  /** Our current SVID (of the published snapshot); throws when there is none. */
  getX509Svid(): X509Svid {
    return this.snapshot().svid;
  }

  /** The published bundle set; before the first snapshot, the bundle source's own (empty until the Workload API answered). */
  bundles(): X509BundleSet {
    return this.#current?.bundles ?? currentBundleSet(this.#bundleSource);
  }

  /**
   * The client-side SecureContext of the published snapshot (SVID, key,
   * every trust root as `ca`): built once per publication, shared by every
   * dialer. Throws when there is no snapshot or the context cannot be built.
   */
  secureContext(): SecureContext {
    const snap = this.snapshot();
    this.#context ??= createSecureContext(snap.options);
    return this.#context;
  }

  /**
   * Calls `listener` (no arguments) after each publication. Returns the
   * function that removes it. A listener that throws is logged and the
   * others still run; the source that triggered update() never sees it.
   */
  onCredentialsChange(listener: () => void): () => void {
    if (!this.#listeners.has(listener) && this.#listeners.size >= this.#maxListeners) {
      throw new CredentialsError('tls.credentials_too_many_listeners', `tls: more than ${this.#maxListeners} credential change listeners; is a listener added per connection?`);
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Change listeners registered now. */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  #publish(next: SecureContextSnapshot | undefined): void {
    this.#current = next;
    this.#context = undefined;
    this.#generation++;
    if (next !== undefined) this.#prebuild(next);
    for (const fn of [...this.#listeners]) {
      try {
        fn();
      } catch (err) {
        this.#logger.error({ err: describeError(err) }, 'a credentials change listener threw');
      }
    }
  }

  /** Builds the client context now, off the handshake path; a failure is retried (and thrown) by the first dial. */
  #prebuild(snap: SecureContextSnapshot): void {
    try {
      this.#context = createSecureContext(snap.options);
    } catch (err) {
      this.#logger.error({ err: describeError(err), spiffe_id: snap.svid.id.toString() }, 'cannot build a TLS context from the new credentials');
    }
  }
}

/**
 * The credentials home of a helper that was given sources rather than a
 * home (library users, tests): a private one that re-reads its sources on
 * demand, as the helpers did before the home existed. `shared` is the home
 * when one was given.
 */
export function ownCredentials(
  shared: Credentials | undefined,
  o: { svidSource?: X509SvidSource | undefined; bundleSource?: X509BundleSetProvider | undefined; minVersion?: SecureVersion | undefined; maxVersion?: SecureVersion | undefined },
  who: string,
): { credentials: Credentials; polled: boolean } {
  if (shared !== undefined) return { credentials: shared, polled: false };
  if (o.svidSource === undefined || o.bundleSource === undefined) {
    throw new CredentialsError('tls.credentials_bad_option', `tls: ${who} needs either credentials or both svidSource and bundleSource`);
  }
  return { credentials: new Credentials({ svidSource: o.svidSource, bundleSource: o.bundleSource, minVersion: o.minVersion, maxVersion: o.maxVersion }), polled: true };
}
