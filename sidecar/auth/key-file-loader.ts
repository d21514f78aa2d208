import { readFile, stat } from 'node:fs/promises';
import { describeError } from '../core/index.ts';
import { quoteUntrusted } from '../spiffe/index.ts';
import { JwkSet, MAX_KEY_SET_BYTES } from './jwk-set.ts';
import { KeySetError } from './key-set-error.ts';
import type { KeySetLoad, KeySetLoader } from './key-set-loader.ts';

/**
 * Loads a JWK Set from a local file, the only source that may hold HS*
 * secrets (`kty: "oct"`). Each load first compares the file's size, mtime
 * and inode with the last good read and returns "unchanged" when they
 * match, so the cache can poll cheaply; `lifetimeMs` is the poll interval.
 */
export class KeyFileLoader implements KeySetLoader {
  readonly source: string;
  readonly #path: string;
  readonly #pollMs: number;
  #stamp = '';

  constructor(path: string, pollMs: number) {
    this.#path = path;
    this.#pollMs = pollMs;
    this.source = quoteUntrusted(path, 200);
  }

  async load(_signal: AbortSignal, haveSet: boolean): Promise<KeySetLoad> {
    let text: Buffer;
    let stamp: string;
    try {
      const st = await stat(this.#path);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > MAX_KEY_SET_BYTES) {
        throw new KeySetError('auth.bad_key_set', `auth: key file ${this.source} is ${st.size} bytes, more than ${MAX_KEY_SET_BYTES}`);
      }
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (haveSet && stamp === this.#stamp) return { set: undefined, skipped: [], lifetimeMs: this.#pollMs };
      text = await readFile(this.#path);
    } catch (cause) {
      if (cause instanceof KeySetError) throw cause;
      throw new KeySetError('auth.key_fetch_failed', `auth: reading key file ${this.source} failed: ${describeError(cause)}`, { cause });
    }
    const { set, skipped } = JwkSet.parse(text, { allowSymmetric: true, source: `key file ${this.source}` });
    this.#stamp = stamp;
    return { set, skipped, lifetimeMs: this.#pollMs };
  }

  async close(): Promise<void> {}
}
