import type { SecureContextOptions } from 'node:tls';
import { describeError, type Clock, type Logger, type TimerHandle } from '../core/index.ts';
import { certificateFilesVersion, loadCertificatePair, type CertificatePair } from './certificate-files.ts';

/** Where a reloaded pair goes: the HTTPS server (node:tls `Server.setSecureContext`). */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/** Options of {@link CertificateReloader}. */
export interface CertificateReloaderOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clock: Clock;
  /** How often the files are checked for changes. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/**
 * Keeps the webhook's serving certificate in step with its files (a mounted
 * Secret that cert-manager or an operator rotates). Checks are cheap
 * (stat only) and run on the injected clock; a changed pair is loaded and
 * installed, a broken one is logged once and the previous one kept.
 * `idle` until {@link watch}, `watching` until {@link stop}, then `stopped`.
 */
export class CertificateReloader {
  readonly #o: CertificateReloaderOptions;
  #state: 'idle' | 'watching' | 'stopped' = 'idle';
  #target: SecureContextTarget | undefined;
  #timer: TimerHandle | undefined;
  /** The files' fingerprint when last tried, loaded or not. */
  #version = '';

  constructor(o: CertificateReloaderOptions) {
    this.#o = o;
  }

  /** Reads and checks the pair to start with; throws 'injector.certificate_invalid'. */
  async load(): Promise<CertificatePair> {
    this.#version = await certificateFilesVersion(this.#o.certFile, this.#o.keyFile);
    return loadCertificatePair(this.#o.certFile, this.#o.keyFile);
  }

  /** Starts the periodic checks, installing new pairs into `target`. Does nothing once stopped. */
  watch(target: SecureContextTarget): void {
    if (this.#state !== 'idle') return;
    this.#state = 'watching';
    this.#target = target;
    this.#schedule();
  }

  /** Checks the files now; resolves true when a new pair was installed. */
  async check(): Promise<boolean> {
    const version = await certificateFilesVersion(this.#o.certFile, this.#o.keyFile);
    const target = this.#target;
    if (version === this.#version || target === undefined) return false;
    // Remember the version even when loading fails, so a broken pair is
    // logged once, not on every tick; the next change is tried again.
    this.#version = version;
    try {
      const pair = await loadCertificatePair(this.#o.certFile, this.#o.keyFile);
      target.setSecureContext({ cert: pair.cert, key: pair.key });
      this.#o.logger.info({ cert: this.#o.certFile }, 'webhook certificate reloaded');
      return true;
    } catch (err) {
      this.#o.logger.error({ err: describeError(err) }, 'webhook certificate not reloaded; keeping the previous one');
      return false;
    }
  }

  /** Stops the checks for good; later {@link check} calls install nothing. */
  stop(): void {
    this.#state = 'stopped';
    this.#target = undefined;
    this.#timer?.cancel();
  }

  #schedule(): void {
    if (this.#state !== 'watching') return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.check().then(
        () => this.#schedule(),
        (err: unknown) => {
          this.#o.logger.error({ err: describeError(err) }, 'certificate check failed');
          this.#schedule();
        },
      );
    }, this.#o.intervalMs);
  }
}
