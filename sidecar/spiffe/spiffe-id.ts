import { MAX_ID_BYTES, byteLength, checkPath, idError, parseIdParts } from './id-syntax.ts';
import { TrustDomain, trustDomainFromCheckedName } from './trust-domain.ts';

/**
 * A validated SPIFFE ID (SPIFFE-ID.md §2): `spiffe://<trust domain><path>`.
 * Immutable; the string form is computed once because it is read on every
 * request (headers, policy, logs).
 */
export class SpiffeId {
  /** The trust domain the ID belongs to. */
  readonly trustDomain: TrustDomain;
  /** The path with its leading slash, or '' for the trust domain's own ID. Case-sensitive. */
  readonly path: string;
  readonly #string: string;

  private constructor(trustDomain: TrustDomain, path: string, asString: string) {
    this.trustDomain = trustDomain;
    this.path = path;
    this.#string = asString;
    Object.freeze(this);
  }

  /**
   * Parses and validates a SPIFFE ID. Throws SpiffeIdError with the code of
   * the first rule broken, in go-spiffe's order (go-spiffe v2 spiffeid/id.go), after the
   * 2048-byte and 255-byte limits that go-spiffe leaves out.
   */
  static parse(input: string): SpiffeId {
    const parts = parseIdParts(input);
    // A valid input is already canonical (fixed scheme, lowercase trust
    // domain, path kept as is), so it is its own string form.
    return new SpiffeId(trustDomainFromCheckedName(parts.trustDomain), parts.path, input);
  }

  /** Builds the ID `td` + `path`; `path` is '' or starts with '/' and follows the path rules. */
  static fromPath(td: TrustDomain, path: string): SpiffeId {
    if (!(td instanceof TrustDomain)) throw new TypeError('spiffeid: fromPath needs a TrustDomain');
    if (typeof path !== 'string') throw new TypeError('spiffeid: path must be a string');
    const asString = td.idString() + path;
    if (byteLength(asString) > MAX_ID_BYTES) throw idError('spiffeid.too_long', asString);
    checkPath(path, asString);
    return new SpiffeId(td, path, asString);
  }

  /**
   * Builds the ID `td` + '/' + segments joined by '/'. Each segment must be
   * non-empty, not '.' or '..', and free of '/' (reported as a bad character).
   */
  static fromSegments(td: TrustDomain, ...segments: string[]): SpiffeId {
    for (const s of segments) {
      if (typeof s !== 'string') throw new TypeError('spiffeid: path segments must be strings');
      // A '/' inside a segment would silently add a level to the path.
      if (s.includes('/')) throw idError('spiffeid.path_char', s);
    }
    return SpiffeId.fromPath(td, segments.map((s) => '/' + s).join(''));
  }

  /** The ID as a string, e.g. `spiffe://example.org/backend`. */
  toString(): string {
    return this.#string;
  }

  /** The string form, so IDs serialise as strings. */
  toJSON(): string {
    return this.#string;
  }

  /** True when `o` is the same ID (byte comparison: the path is case-sensitive). */
  equals(o: SpiffeId): boolean {
    return o != null && o.toString() === this.#string;
  }

  /** True when this ID belongs to trust domain `td`. */
  memberOf(td: TrustDomain): boolean {
    return this.trustDomain.equals(td);
  }

  /** True for the trust domain's own ID (`spiffe://td`, empty path). */
  isRoot(): boolean {
    return this.path === '';
  }
}
