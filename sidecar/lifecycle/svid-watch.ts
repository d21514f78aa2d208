import { describeError, type Clock, type Logger, type TimerHandle } from '../core/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import type { X509Svid } from '../svid/index.ts';
import type { Credentials } from '../tls/index.ts';
import type { X509Source, X509SourceUpdate } from '../workload/index.ts';
import type { IdentityHolder } from './identity-holder.ts';
import { svidDebug } from './svid-debug.ts';

/** Node timers overflow above 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What {@link SvidWatch} tells about each new SVID besides the credentials home. */
export interface SvidWatchDeps {
  readonly identity: IdentityHolder;
  readonly credentials: Credentials;
  readonly metrics: Pick<SidecarMetrics, 'svidUpdated'>;
  /** Told the trust domain of each new SVID (the policies' default). */
  readonly onTrustDomain: (svid: X509Svid) => void;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The one place the Workload API's X509 updates enter the sidecar: each
 * update is published to the credentials home first (so every new
 * handshake uses it), then counted, logged and timed for expiry. Also
 * answers readiness and /debug/svid from what it saw.
 */
export class SvidWatch {
  readonly #d: SvidWatchDeps;
  #last: X509Svid | undefined;
  #expiryTimer: TimerHandle | undefined;
  /** The Workload API connection's last failure, shown while there is no SVID. */
  lastWatchError: Error | undefined;

  constructor(deps: SvidWatchDeps) {
    this.#d = deps;
  }

  /** Installs the source that delivered the first SVID and follows its updates. */
  install(source: X509Source): void {
    this.#d.identity.set(source);
    source.on('update', (ev) => this.#onUpdate(ev));
    this.#d.credentials.update();
    this.#note(source.getX509Svid());
  }

  /** Why there is no usable SVID now; empty when there is one. */
  reasons(): string[] {
    const source = this.#d.identity.source;
    if (source === undefined) {
      const why = this.lastWatchError ? `: ${describeError(this.lastWatchError).replace(/\s*Resolution note:\s*$/, '').slice(0, 300)}` : '';
      return [`no SVID yet${why}`];
    }
    if (source.isReady()) return [];
    const last = this.#last;
    if (last !== undefined && last.notAfter.getTime() <= this.#d.clock.now()) {
      return [`SVID expired at ${last.notAfter.toISOString()} and no new one arrived`];
    }
    return ['no SVID: the Workload API withdrew it'];
  }

  /** The /debug/svid view (no private key). */
  debug(): unknown {
    const source = this.#d.identity.source;
    if (source === undefined) return { ready: false, svid: null, reasons: this.reasons() };
    let svid: X509Svid;
    try {
      svid = source.getX509Svid();
    } catch (err) {
      return { ready: false, svid: null, reasons: [describeError(err)] };
    }
    return { ready: source.isReady(), svid: svidDebug(svid, source.bundles()) };
  }

  /** Stops the expiry timer and closes the X509 source (its watch on the Workload API). */
  close(): void {
    this.#expiryTimer?.cancel();
    this.#d.identity.source?.close();
  }

  #onUpdate(ev: X509SourceUpdate): void {
    // First, so the rotation (or the withdrawal) reaches the next handshake.
    this.#d.credentials.update();
    if (ev.svid === undefined) {
      this.#d.logger.warn({ svids: ev.svids.length }, 'X509-SVID withdrawn by the Workload API: refusing new inbound connections until one is issued');
      return;
    }
    this.#note(ev.svid);
  }

  #note(svid: X509Svid): void {
    const last = this.#last;
    if (last !== undefined && svid.certificates[0]!.der.equals(last.certificates[0]!.der)) return;
    this.#last = svid;
    this.#d.metrics.svidUpdated(svid.notAfter, last !== undefined);
    this.#d.onTrustDomain(svid);
    this.#armExpiry(svid);
    this.#d.logger.info(
      { spiffe_id: svid.id.toString(), serial: svid.certificates[0]!.serialNumber, not_after: svid.notAfter.toISOString() },
      last !== undefined ? 'X509-SVID rotated' : 'X509-SVID received',
    );
  }

  /** Logs once when the SVID in use expires without a replacement (readiness already reports it). */
  #armExpiry(svid: X509Svid): void {
    this.#expiryTimer?.cancel();
    const clock = this.#d.clock;
    const left = svid.notAfter.getTime() - clock.now();
    this.#expiryTimer = clock.setTimeout(
      () => {
        if (this.#last !== svid) return;
        if (svid.notAfter.getTime() > clock.now()) return this.#armExpiry(svid);
        this.#d.logger.error({ spiffe_id: svid.id.toString(), not_after: svid.notAfter.toISOString() }, 'X509-SVID expired and no new one arrived: not ready');
      },
      Math.min(Math.max(left, 0), MAX_TIMER_MS),
    );
  }
}
