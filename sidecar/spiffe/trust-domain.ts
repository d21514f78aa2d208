import { SPIFFE_SCHEME_PREFIX, parseTrustDomainName } from './id-syntax.ts';

let fromCheckedName: (name: string) => TrustDomain;

/**
 * A SPIFFE trust domain (SPIFFE-ID.md §2.1): a validated, lowercase name such
 * as `example.org`. Immutable; compare with {@link TrustDomain.equals}.
 */
export class TrustDomain {
  /** The bare name, e.g. `example.org`. */
  readonly name: string;
  readonly #idString: string;

  private constructor(name: string) {
    this.name = name;
    this.#idString = SPIFFE_SCHEME_PREFIX + name;
    Object.freeze(this);
  }

  static {
    fromCheckedName = (name) => new TrustDomain(name);
  }

  /**
   * Parses a bare name (`example.org`) or, when the input contains ':/', a
   * full SPIFFE ID whose trust domain is returned (`spiffe://example.org/x`).
   * Throws SpiffeIdError; an empty input is 'spiffeid.trust_domain_missing'.
   */
  static parse(input: string): TrustDomain {
    return new TrustDomain(parseTrustDomainName(input));
  }

  /** The trust domain's own SPIFFE ID, `spiffe://<name>`: the key SPIRE uses in bundle maps. */
  idString(): string {
    return this.#idString;
  }

  /** The bare name. */
  toString(): string {
    return this.name;
  }

  /** The bare name, so trust domains serialise as strings. */
  toJSON(): string {
    return this.name;
  }

  /** True when `o` names the same trust domain (names are already lowercase, so exact comparison). */
  equals(o: TrustDomain): boolean {
    return o != null && o.name === this.name;
  }
}

/** Builds a TrustDomain from a name already validated by id-syntax; internal to this folder. */
export function trustDomainFromCheckedName(name: string): TrustDomain {
  return fromCheckedName(name);
}
