import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock, Logger, TimerHandle } from '../core/index.ts';
import { describeError } from '../core/index.ts';

/** How often the secret file is re-read, in ms (Kubernetes updates mounted secrets within about a minute). */
export const SECRET_REFRESH_MS = 10_000;

/** Who reads the secret: names it in log lines and builds its typed errors. */
export interface SecretFileOwner {
  /** Prefix of log messages, e.g. `introspection`. */
  readonly label: string;
  /** The owner's typed error for `message` (a missing, unreadable or empty file). */
  fail(message: string, cause?: unknown): Error;
}

/**
 * A client secret kept in a file: read once at construction (missing,
 * unreadable or empty is an error then), then re-read every
 * {@link SECRET_REFRESH_MS} so a rotated secret takes effect without a
 * restart. A failed or empty re-read keeps the last good secret. The secret
 * is never logged; only the path is.
 */
export class ClientSecretFile {
  readonly path: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #owner: SecretFileOwner;
  #value: string;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(path: string, clock: Clock, logger: Logger, owner: SecretFileOwner) {
    this.path = path;
    this.#clock = clock;
    this.#logger = logger;
    this.#owner = owner;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw owner.fail(`cannot read the client secret file ${JSON.stringify(path)}`, cause);
    }
    this.#value = checked(path, text, owner);
    this.#schedule();
  }

  /** The current secret. */
  get value(): string {
    return this.#value;
  }

  /** Re-reads the file now; resolves true when the secret changed. Keeps the old secret on any failure. */
  async refresh(): Promise<boolean> {
    try {
      const next = checked(this.path, await readFile(this.path, 'utf8'), this.#owner);
      if (next === this.#value) return false;
      this.#value = next;
      this.#logger.info({ path: this.path }, `${this.#owner.label}: client secret file changed; using the new secret`);
      return true;
    } catch (err) {
      this.#logger.warn({ path: this.path, err: describeError(err) }, `${this.#owner.label}: keeping the previous client secret`);
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

function checked(path: string, text: string, owner: SecretFileOwner): string {
  // Files written with `echo` end in a newline that is not part of the secret.
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length === 0) throw owner.fail(`the client secret file ${JSON.stringify(path)} is empty`);
  return secret;
}
