import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock, Logger, TimerHandle } from '../core/index.ts';
import { IntrospectionError } from './introspection-error.ts';

/** How often the secret file is re-read, in ms (Kubernetes updates mounted secrets within about a minute). */
export const SECRET_REFRESH_MS = 10_000;

/**
 * A client secret kept in a file: read once at construction (missing,
 * unreadable or empty is an error then), then re-read every
 * {@link SECRET_REFRESH_MS} so a rotated secret takes effect without a
 * restart. A failed or empty re-read keeps the last good secret. The secret
 * is never logged; only the path is.
 */
export class IntrospectionSecretFile {
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
      throw new IntrospectionError('introspection.secret_file', `introspection: cannot read the client secret file ${JSON.stringify(path)}`, { cause });
    }
    this.#value = checked(path, text);
    this.#schedule();
  }

  /** The current secret. */
  get value(): string {
    return this.#value;
  }

  /** Re-reads the file now; resolves true when the secret changed. Keeps the old secret on any failure. */
  async refresh(): Promise<boolean> {
    try {
      const next = checked(this.path, await readFile(this.path, 'utf8'));
      if (next === this.#value) return false;
      this.#value = next;
      this.#logger.info({ path: this.path }, 'introspection: client secret file changed; using the new secret');
      return true;
    } catch (err) {
      this.#logger.warn({ path: this.path, err: err instanceof Error ? err.message : String(err) }, 'introspection: keeping the previous client secret');
      return false;
    }
  }

  /** Stops re-reading. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.refresh().finally(() => this.#schedule());
    }, SECRET_REFRESH_MS);
  }
}

function checked(path: string, text: string): string {
  // Files written with `echo` end in a newline that is not part of the secret.
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length === 0) throw new IntrospectionError('introspection.secret_file', `introspection: the client secret file ${JSON.stringify(path)} is empty`);
  return secret;
}
