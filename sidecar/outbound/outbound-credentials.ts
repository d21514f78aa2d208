/** What {@link OutboundCredentials.subjectToken} returns for a request with two Authorization headers. */
export const MULTIPLE_TOKENS = Symbol('multiple-tokens');

/**
 * The credentials an app's outbound request may carry: every
 * `Authorization` header (whatever its scheme), the configured token
 * headers, and the configured token cookies. Reads node's raw header
 * arrays (name, value, ...; names in any case).
 */
export class OutboundCredentials {
  readonly #headers: ReadonlySet<string>;
  readonly #cookies: ReadonlySet<string>;

  /** `headers` and `cookies` are the configured token locations; `authorization` is always included. */
  constructor(headers: readonly string[] = [], cookies: readonly string[] = []) {
    this.#headers = new Set(['authorization', ...headers.map((h) => h.toLowerCase())]);
    this.#cookies = new Set(cookies);
  }

  /**
   * `raw` without credentials: the credential headers whatever their
   * value, and the token cookies (other cookies stay). Returns `raw`
   * itself when it carries none, so the common case allocates nothing.
   */
  strip(raw: string[]): string[] {
    let i = 0;
    for (; i + 1 < raw.length; i += 2) if (this.#carries(raw[i]!)) break;
    if (i + 1 >= raw.length) return raw;
    const out = raw.slice(0, i);
    for (; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      if (this.#cookies.size > 0 && name.length === 6 && name.toLowerCase() === 'cookie') {
        const kept = this.#withoutTokenCookies(value);
        if (kept !== '') out.push(name, kept);
      } else if (!this.#headers.has(name.toLowerCase())) out.push(name, value);
    }
    return out;
  }

  /**
   * The token of the request's `Authorization: Bearer` header (RFC 6750
   * §2.1), undefined when there is none (or another scheme), or
   * {@link MULTIPLE_TOKENS} for two Authorization headers: which one would
   * count would depend on who reads the request.
   */
  subjectToken(raw: readonly string[]): string | undefined | typeof MULTIPLE_TOKENS {
    let token: string | undefined;
    let seen = false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
      if (seen) return MULTIPLE_TOKENS;
      seen = true;
      const value = raw[i + 1]!;
      if (value.length > 7 && value.slice(0, 7).toLowerCase() === 'bearer ') {
        const t = value.slice(7).trim();
        if (t !== '') token = t;
      }
    }
    return token;
  }

  #carries(name: string): boolean {
    const lower = name.toLowerCase();
    return this.#headers.has(lower) || (this.#cookies.size > 0 && lower === 'cookie');
  }

  #withoutTokenCookies(value: string): string {
    const kept: string[] = [];
    for (const pair of value.split(';')) {
      const p = pair.trim();
      if (p === '') continue;
      const eq = p.indexOf('=');
      // Cookie names compare exactly (RFC 6265 §5.4).
      const name = (eq < 0 ? p : p.slice(0, eq)).trim();
      if (!this.#cookies.has(name)) kept.push(p);
    }
    return kept.join('; ');
  }
}
