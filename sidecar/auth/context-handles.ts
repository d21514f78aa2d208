import { randomFillSync } from 'node:crypto';
import { SidecarError, type Clock } from '../core/index.ts';

/** Default name of the header carrying a context handle to the app. */
export const DEFAULT_CONTEXT_HANDLE_HEADER = 'x-auth-context';
/** Default longest life of a handle: 5 minutes (shorter when the token expires first). */
export const DEFAULT_CONTEXT_HANDLE_LIFETIME_MS = 5 * 60_000;
/** Default bound on live handles. */
export const DEFAULT_CONTEXT_HANDLE_ENTRIES = 10_000;
/** Random bytes per handle: 192 bits, well above the 128 an unguessable secret needs (RFC 6749 §10.10). */
export const CONTEXT_HANDLE_BYTES = 24;
/** Characters of a handle: base64url of {@link CONTEXT_HANDLE_BYTES}, unpadded. */
export const CONTEXT_HANDLE_LENGTH = 32;

const POOL_BYTES = CONTEXT_HANDLE_BYTES * 128;
const MAX_LIFETIME_MS = 24 * 3600_000;
const MAX_ENTRIES = 1_000_000;
// Only expired entries at the oldest end are swept per issue, so issuing stays O(1) amortised.
const SWEEP_PER_ISSUE = 8;
const HEADER_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Options of {@link ContextHandles}. */
export interface ContextHandleOptions {
  /** Header name (lowercase); default {@link DEFAULT_CONTEXT_HANDLE_HEADER}. */
  readonly header?: string | undefined;
  /** Longest life of a handle in ms; default {@link DEFAULT_CONTEXT_HANDLE_LIFETIME_MS}. */
  readonly maxLifetimeMs?: number | undefined;
  /** Bound on live handles; when full, the oldest goes. Default {@link DEFAULT_CONTEXT_HANDLE_ENTRIES}. */
  readonly maxEntries?: number | undefined;
  /** Resolve the handle even when the app's request carries its own bearer token (default false: the app's token wins). */
  readonly preferHandle?: boolean | undefined;
  readonly clock: Clock;
}

/** Stable code of a {@link ContextHandleError}. */
export type ContextHandleErrorCode = 'context_handle.invalid_options';

/** Invalid context handle options. */
export class ContextHandleError extends SidecarError {
  declare readonly code: ContextHandleErrorCode;
  constructor(code: ContextHandleErrorCode, message: string) {
    super(code, message);
  }
}

/** The problems with `o` (empty when valid), each naming the option. */
export function contextHandleProblems(o: Omit<ContextHandleOptions, 'clock'>): string[] {
  const problems: string[] = [];
  if (o.header !== undefined && (typeof o.header !== 'string' || o.header.length > 64 || !HEADER_NAME.test(o.header))) {
    problems.push('header: use 1-64 lowercase letters, digits and single dashes (e.g. "x-auth-context")');
  }
  if (o.header === 'authorization' || o.header === 'cookie') problems.push(`header: ${o.header} carries credentials of its own`);
  const lifetime = o.maxLifetimeMs;
  if (lifetime !== undefined && (!Number.isSafeInteger(lifetime) || lifetime < 1000 || lifetime > MAX_LIFETIME_MS)) {
    problems.push(`maxLifetime: must be between 1s and 24h`);
  }
  const entries = o.maxEntries;
  if (entries !== undefined && (!Number.isSafeInteger(entries) || entries < 1 || entries > MAX_ENTRIES)) {
    problems.push(`maxEntries: must be an integer from 1 to ${MAX_ENTRIES}`);
  }
  return problems;
}

interface Entry {
  readonly token: string;
  readonly expiresAtMs: number;
}

/**
 * Context handles (docs/end-user-identity.md, "Context handles"): the
 * inbound side stores the verified token of a request under a fresh random
 * handle and gives the app the handle instead of the token; the outbound
 * side of the same process resolves a handle the app propagates back to the
 * token, to exchange it. A handle is a random 192-bit name with no meaning
 * outside this process's memory: another sidecar, or this one after a
 * restart, resolves nothing.
 *
 * Bounded: at most `maxEntries` live handles, the oldest dropped first; each
 * expires at the earlier of its token's `exp` and `maxLifetime` after issue.
 * Never logs or exposes tokens; resolving is a synchronous map lookup.
 */
export class ContextHandles {
  /** The header the handle travels in, lowercase. */
  readonly header: string;
  readonly preferHandle: boolean;
  readonly #maxLifetimeMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  // Insertion order is issue order: the first entries are the oldest.
  readonly #entries = new Map<string, Entry>();
  readonly #pool = Buffer.allocUnsafe(POOL_BYTES);
  #poolOffset = POOL_BYTES;

  /** Throws ContextHandleError 'context_handle.invalid_options' naming every bad option. */
  constructor(o: ContextHandleOptions) {
    const problems = contextHandleProblems(o);
    if (problems.length > 0) throw new ContextHandleError('context_handle.invalid_options', `context_handle: invalid options: ${problems.join('; ')}`);
    this.header = o.header ?? DEFAULT_CONTEXT_HANDLE_HEADER;
    this.preferHandle = o.preferHandle === true;
    this.#maxLifetimeMs = o.maxLifetimeMs ?? DEFAULT_CONTEXT_HANDLE_LIFETIME_MS;
    this.#maxEntries = o.maxEntries ?? DEFAULT_CONTEXT_HANDLE_ENTRIES;
    this.#clock = o.clock;
  }

  /** Live (not yet swept) handles. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * A new handle for `token`, valid until `tokenExpiresAtMs` or the
   * configured lifetime, whichever comes first; undefined when the token is
   * already expired (nothing worth a handle).
   */
  issue(token: string, tokenExpiresAtMs: number): string | undefined {
    const now = this.#clock.now();
    const expiresAtMs = Math.min(tokenExpiresAtMs, now + this.#maxLifetimeMs);
    if (!(expiresAtMs > now)) return undefined;
    this.#sweep(now);
    if (this.#entries.size >= this.#maxEntries) {
      // Full of live handles: the oldest goes. Its holder's next outbound call
      // then carries no user token and is refused where one is required.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    const handle = this.#random();
    this.#entries.set(handle, { token, expiresAtMs });
    return handle;
  }

  /** The token behind `handle`, or undefined when it is unknown, malformed or expired. */
  resolve(handle: string): string | undefined {
    if (handle.length !== CONTEXT_HANDLE_LENGTH) return undefined;
    const e = this.#entries.get(handle);
    if (e === undefined) return undefined;
    if (e.expiresAtMs <= this.#clock.now()) {
      this.#entries.delete(handle);
      return undefined;
    }
    return e.token;
  }

  /**
   * The token behind the handle header of `raw` (node's raw header array),
   * undefined when there is no such header, it resolves to nothing, or the
   * header appears twice (which copy counts would depend on the reader).
   */
  find(raw: readonly string[]): string | undefined {
    const name = this.header;
    let value: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const n = raw[i]!;
      if (n.length !== name.length || n.toLowerCase() !== name) continue;
      if (value !== undefined) return undefined;
      value = raw[i + 1]!;
    }
    return value === undefined ? undefined : this.resolve(value.trim());
  }

  /** Forgets every handle. */
  clear(): void {
    this.#entries.clear();
  }

  #sweep(now: number): void {
    let n = 0;
    for (const [handle, e] of this.#entries) {
      if (n++ >= SWEEP_PER_ISSUE || e.expiresAtMs > now) break;
      this.#entries.delete(handle);
    }
  }

  /** 192 bits from the CSPRNG, base64url; one randomFillSync per 128 handles. */
  #random(): string {
    if (this.#poolOffset + CONTEXT_HANDLE_BYTES > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#poolOffset = 0;
    }
    const start = this.#poolOffset;
    this.#poolOffset = start + CONTEXT_HANDLE_BYTES;
    const s = this.#pool.toString('base64url', start, start + CONTEXT_HANDLE_BYTES);
    // Used bytes are zeroed, so no later read of the pool sees an issued handle.
    this.#pool.fill(0, start, start + CONTEXT_HANDLE_BYTES);
    return s;
  }
}
