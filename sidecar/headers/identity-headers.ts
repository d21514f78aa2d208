import type { CallerIdentity } from './caller-identity.ts';
import { HeaderError } from './header-error.ts';
import { headerNameProblem, nameEquals, nameEqualsAt } from './header-name.ts';
import { UserHeaders, type UserIdentity } from './user-identity.ts';
import { someListElement } from './field-list.ts';

/** Default name of the header carrying the caller's SPIFFE ID. */
export const DEFAULT_SPIFFE_ID_HEADER = 'x-client-spiffe-id';
/** Default name of the header carrying Envoy-style client certificate details. */
export const DEFAULT_XFCC_HEADER = 'x-forwarded-client-cert';

/** Header names, lowercase; defaults are {@link DEFAULT_SPIFFE_ID_HEADER} and {@link DEFAULT_XFCC_HEADER}. */
export interface IdentityHeaderOptions {
  readonly spiffeIdHeader?: string | undefined;
  readonly xfccHeader?: string | undefined;
  /** The end user's headers (names, claim mappings); defaults when absent. Always stripped, set only for a verified user. */
  readonly user?: UserHeaders | undefined;
  /**
   * The context handle header (docs/end-user-identity.md, "Context
   * handles"): stripped both ways like the identity headers, so a caller can
   * never send one in and a handle never leaves the pod; the enforcement
   * stage sets it after stripping. None when absent.
   */
  readonly contextHandleHeader?: string | undefined;
}

/** A header object as node:http and node:http2 give them (`req.headers`). */
export type HeaderObject = Readonly<Record<string, string | readonly string[] | undefined>>;
/** A header object to send; it has no prototype, so a header named `__proto__` is just a header. */
export type OutgoingHeaderObject = Record<string, string | readonly string[]>;

const CONNECTION = 'connection';

/**
 * The one place caller identity enters or leaves a request, so stripping and
 * setting cannot drift apart (docs/decisions/002-identity-headers.md):
 * inbound, every copy of both identity headers the caller sent is dropped
 * and ours appended; outbound, every copy the app sent is dropped. Names
 * match case-insensitively with '_' read as '-'; the default names are
 * stripped too when the headers are renamed; and the names are also removed
 * from `Connection` (see {@link IdentityHeaders.inbound}).
 * See docs/decisions/002-identity-headers.md.
 *
 * Built once from configuration; the per-request methods make one pass,
 * reject most names on their length alone, and allocate only the output.
 */
export class IdentityHeaders {
  /** Name of the header carrying the caller's SPIFFE ID. */
  readonly spiffeIdHeader: string;
  /** Name of the XFCC header. */
  readonly xfccHeader: string;
  /** The end user's header names and claim mappings. */
  readonly user: UserHeaders;
  /** Everything stripped: the configured names and, when renamed, the defaults. */
  readonly #stripped: readonly string[];

  /** Throws HeaderError 'headers.invalid_name' for names that are not lowercase tokens, reserved, or equal. */
  constructor(options: IdentityHeaderOptions = {}) {
    const spiffeIdHeader = options.spiffeIdHeader ?? DEFAULT_SPIFFE_ID_HEADER;
    const xfccHeader = options.xfccHeader ?? DEFAULT_XFCC_HEADER;
    const problems: string[] = [];
    for (const [key, name] of [
      ['spiffeIdHeader', spiffeIdHeader],
      ['xfccHeader', xfccHeader],
    ] as const) {
      const p = headerNameProblem(name);
      if (p !== undefined) problems.push(`${key} ${JSON.stringify(name)}: ${p}`);
    }
    if (problems.length === 0 && spiffeIdHeader === xfccHeader) {
      problems.push(`spiffeIdHeader and xfccHeader must differ (both ${JSON.stringify(spiffeIdHeader)})`);
    }
    if (problems.length > 0) {
      throw new HeaderError('headers.invalid_name', `headers: invalid identity header names: ${problems.join('; ')}`);
    }
    this.spiffeIdHeader = spiffeIdHeader;
    this.xfccHeader = xfccHeader;
    this.user = options.user ?? new UserHeaders();
    const clash = this.user.names.find((n) => n === spiffeIdHeader || n === xfccHeader);
    if (clash !== undefined) throw new HeaderError('headers.invalid_name', `headers: ${JSON.stringify(clash)} is both a caller and a user identity header`);
    // Renaming must not let a caller-supplied x-forwarded-client-cert reach an
    // app framework that reads the default name on its own.
    const handle = options.contextHandleHeader;
    if (handle !== undefined) {
      const p = headerNameProblem(handle);
      if (p !== undefined) throw new HeaderError('headers.invalid_name', `headers: contextHandleHeader ${JSON.stringify(handle)}: ${p}`);
      if (handle === spiffeIdHeader || handle === xfccHeader || this.user.names.includes(handle)) {
        throw new HeaderError('headers.invalid_name', `headers: ${JSON.stringify(handle)} is both the context handle and an identity header`);
      }
    }
    this.#stripped = [...new Set([spiffeIdHeader, xfccHeader, DEFAULT_SPIFFE_ID_HEADER, DEFAULT_XFCC_HEADER, ...this.user.names, ...(handle !== undefined ? [handle] : [])])];
    Object.freeze(this);
  }

  /** True when `name` is stripped: a configured or default identity header name (any case, '_' for '-'). */
  isIdentityHeader(name: string): boolean {
    return this.#isOursAt(name, 0, name.length);
  }

  /**
   * Inbound, node:http form: returns `rawHeaders` (alternating name, value,
   * as `req.rawHeaders`) without any identity header, then the SPIFFE ID and
   * XFCC headers for `caller` appended. Never throws; `caller` was validated
   * when it was built.
   *
   * Why `Connection` is rewritten too: a caller sending
   * `Connection: x-client-spiffe-id` declares our header hop-by-hop, and
   * whichever hop honours that (this proxy's forwarding code, or a proxy in
   * front of the app) would delete the identity we set. Dropping those
   * tokens (and a `Connection` left empty) makes the set headers stick.
   */
  inbound(rawHeaders: readonly string[], caller: CallerIdentity, user?: UserIdentity): string[] {
    const out = this.#strip(rawHeaders);
    out.push(this.spiffeIdHeader, caller.peerId, this.xfccHeader, caller.xfcc);
    // The user's headers exist only when a token was verified for this very
    // request; stripping above removed every copy a caller or app sent.
    if (user !== undefined) this.user.append(out, user);
    return out;
  }

  /**
   * Outbound, node:http form: returns `rawHeaders` without any identity
   * header, so the app can neither claim an identity towards a peer nor leak
   * the one it was called with. An odd trailing item is dropped.
   */
  outbound(rawHeaders: readonly string[]): string[] {
    return this.#strip(rawHeaders);
  }

  /** {@link inbound} for a header object (node:http2, or `req.headers`). Symbol keys are not copied. */
  inboundObject(headers: HeaderObject, caller: CallerIdentity): OutgoingHeaderObject {
    const out = this.#stripObject(headers);
    out[this.spiffeIdHeader] = caller.peerId;
    out[this.xfccHeader] = caller.xfcc;
    return out;
  }

  /** {@link outbound} for a header object. Symbol keys are not copied. */
  outboundObject(headers: HeaderObject): OutgoingHeaderObject {
    return this.#stripObject(headers);
  }

  #strip(raw: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      if (this.#isOursAt(name, 0, name.length)) continue;
      if (name.length === CONNECTION.length && nameEquals(name, CONNECTION)) {
        const kept = this.#scrubConnection(value);
        if (kept !== '') out.push(name, kept);
        continue;
      }
      out.push(name, value);
    }
    return out;
  }

  #stripObject(headers: HeaderObject): OutgoingHeaderObject {
    const out: OutgoingHeaderObject = Object.create(null) as OutgoingHeaderObject;
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value === undefined || this.#isOursAt(name, 0, name.length)) continue;
      if (name.length === CONNECTION.length && nameEquals(name, CONNECTION)) {
        const kept = typeof value === 'string' ? this.#scrubConnection(value) : this.#scrubConnectionList(value);
        if (kept !== '') out[name] = kept;
        continue;
      }
      out[name] = value;
    }
    return out;
  }

  #isOursAt(s: string, start: number, end: number): boolean {
    const len = end - start;
    for (const name of this.#stripped) if (len === name.length && nameEqualsAt(s, start, end, name)) return true;
    return false;
  }

  /** Joins a multi-line Connection into one value and scrubs it. */
  #scrubConnectionList(values: readonly string[]): string {
    return this.#scrubConnection(values.join(', '));
  }

  /** `value` without tokens naming an identity header; the same string when there are none. */
  #scrubConnection(value: string): string {
    if (!this.#connectionNamesOurs(value)) return value;
    // Rare path (a caller trying to hide our headers): allocation is fine here.
    const kept: string[] = [];
    for (const token of value.split(',')) {
      const t = token.trim();
      if (t !== '' && !this.isIdentityHeader(t)) kept.push(t);
    }
    return kept.join(', ');
  }

  /** True when a comma-separated token of `value` names an identity header; allocation-free. */
  #connectionNamesOurs(value: string): boolean {
    return someListElement(value, this, IdentityHeaders.#oursAt);
  }

  static #oursAt(self: IdentityHeaders, value: string, s: number, e: number): boolean {
    return self.#isOursAt(value, s, e);
  }
}

