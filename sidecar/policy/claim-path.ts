/** Characters of a claim name that may be written without brackets. */
const BARE = /^[A-Za-z0-9_$:-]+$/;
const BARE_CHAR = /[A-Za-z0-9_$:-]/;

/** Deepest claim path accepted: real tokens nest a few levels at most. */
const MAX_DEPTH = 16;

/** Result of {@link ClaimPath.parse}. */
export type ParsedClaimPath = { readonly ok: true; readonly path: ClaimPath } | { readonly ok: false; readonly problem: string };

/**
 * A path to a claim, possibly nested: `customer_id`, `org.id`,
 * `realm_access.roles`, `["https://example.com/tenant"]`, `org["a.b"].id`.
 *
 * Syntax: names of letters, digits and `_ $ : -` are written bare and
 * joined with `.`; any other name (dots, slashes, spaces, ...) is written
 * `["..."]` as a JSON string, with no `.` before the bracket. So `a.b` is
 * always "b inside a" and a key containing a dot is always `["a.b"]`: one
 * spelling, one meaning.
 */
export class ClaimPath {
  /** The claim names from the outside in. */
  readonly segments: readonly string[];
  /** The canonical spelling: bare names where possible. */
  readonly text: string;

  private constructor(segments: readonly string[]) {
    this.segments = Object.freeze([...segments]);
    this.text = segments.map((s, i) => (BARE.test(s) ? (i === 0 ? s : `.${s}`) : `[${JSON.stringify(s)}]`)).join('');
    Object.freeze(this);
  }

  /** Parses the syntax above; never throws. */
  static parse(text: string): ParsedClaimPath {
    const segments: string[] = [];
    let i = 0;
    while (i < text.length) {
      if (segments.length === MAX_DEPTH) return fail(`nested deeper than ${MAX_DEPTH} levels`);
      if (text[i] === '[') {
        const end = closingQuote(text, i + 1);
        if (end < 0) return fail(`at character ${i + 1}: "[" must be followed by a JSON string in double quotes and "]"`);
        let name: unknown;
        try {
          name = JSON.parse(text.slice(i + 1, end + 1));
        } catch {
          return fail(`at character ${i + 2}: not a valid JSON string`);
        }
        if (text[end + 1] !== ']') return fail(`at character ${end + 2}: expected "]" after the quoted name`);
        if (name === '') return fail('a claim name cannot be empty');
        segments.push(name as string);
        i = end + 2;
      } else {
        if (segments.length > 0) {
          if (text[i] !== '.') return fail(`at character ${i + 1}: ${notBare(text[i]!)}`);
          i++;
        }
        const start = i;
        while (i < text.length && BARE_CHAR.test(text[i]!)) i++;
        if (i === start) return fail(`at character ${i + 1}: ${i < text.length ? notBare(text[i]!) : 'a name is missing'}`);
        segments.push(text.slice(start, i));
      }
    }
    if (segments.length === 0) return fail('empty claim path');
    return { ok: true, path: new ClaimPath(segments) };
  }

  /**
   * The claim's value, or undefined when a name is missing or something on
   * the way is not a JSON object. Reads own properties only, so `__proto__`
   * or `constructor` never reach into prototypes. Allocates nothing.
   */
  read(claims: Readonly<Record<string, unknown>>): unknown {
    let v: unknown = claims;
    const segments = this.segments;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, s)) return undefined;
      v = (v as Record<string, unknown>)[s];
    }
    return v;
  }
}

function notBare(c: string): string {
  return `${JSON.stringify(c)} is not allowed in a bare name; write names with other characters as ["..."], e.g. ["https://example.com/roles"]`;
}

function fail(problem: string): ParsedClaimPath {
  return { ok: false, problem };
}

/** Index of the '"' closing a JSON string whose opening quote is at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  if (text[open] !== '"') return -1;
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
