import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock, Logger, TimerHandle } from '../core/index.ts';
import { TokenExchangeError } from './token-exchange-error.ts';

/** How often the secret file is re-read (mounted Kubernetes secrets change within about a minute). */
export const SECRET_REREAD_MS = 10_000;

/**
 * The client secret, kept in a file: read at construction (missing or
 * empty fails then), re-read every {@link SECRET_REREAD_MS} so a rotated
 * secret takes effect without a restart; a failed re-read keeps the last
 * good value. Only the path is ever logged.
 */
export class ClientSecretFile {
  readonly path: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #value: string;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(path: string, clock: Clock, logger: Logger) {
    this.path = path;
    this.#clock = clock;
    this.#logger = logger;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new TokenExchangeError('exchange.secret_file', `exchange: cannot read the client secret file ${JSON.stringify(path)}`, { cause });
    }
    this.#value = secretOf(path, text);
    this.#arm();
  }

  /** The current secret. */
  get value(): string {
    return this.#value;
  }

  /** Re-reads the file; keeps the old secret on failure. */
  async reread(): Promise<void> {
    try {
      const next = secretOf(this.path, await readFile(this.path, 'utf8'));
      if (next !== this.#value) this.#logger.info({ path: this.path }, 'exchange: client secret file changed');
      this.#value = next;
    } catch (err) {
      this.#logger.warn({ path: this.path, err: err instanceof Error ? err.message : String(err) }, 'exchange: keeping the previous client secret');
    }
  }

  /** Stops re-reading. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  #arm(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => void this.reread().finally(() => this.#arm()), SECRET_REREAD_MS);
  }
}

function secretOf(path: string, text: string): string {
  // `echo secret > file` adds a newline that is not part of the secret.
  const s = text.replace(/\r?\n$/, '');
  if (s === '') throw new TokenExchangeError('exchange.secret_file', `exchange: the client secret file ${JSON.stringify(path)} is empty`);
  return s;
}
