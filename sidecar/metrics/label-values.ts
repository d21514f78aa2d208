/**
 * Label value normalisation that keeps the number of time series bounded
 * whatever peers send: Prometheus memory grows with every distinct label
 * value, and callers control methods and, within a mesh, peer identities.
 */

/** Label value for peers seen after the cap was reached. */
export const OVERFLOW_LABEL = 'overflow';
/** Label value for a non-standard HTTP method. */
export const OTHER_METHOD = 'OTHER';

/** RFC 9110 §9 methods plus PATCH (RFC 5789); index = position, OTHER last. */
export const METHOD_LABELS: readonly string[] = Object.freeze([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', OTHER_METHOD,
]);
const METHOD_INDEX = new Map(METHOD_LABELS.slice(0, -1).map((m, i) => [m, i]));
const OTHER_INDEX = METHOD_LABELS.length - 1;

/**
 * Index into METHOD_LABELS: the method itself when standard, else `OTHER`.
 * Case-sensitive, as methods are (RFC 9110 §9.1): `get` is OTHER.
 */
export function methodIndex(method: string): number {
  return METHOD_INDEX.get(method) ?? OTHER_INDEX;
}

const CODES: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i));

/** The status code kept as a label: itself within 100-599, else 0 ("no response" or nonsense). */
export function codeNumber(code: number): number {
  return code >= 100 && code <= 599 ? code | 0 : 0;
}

/** The status code label as a string; anything outside 100-599 (including 0, "no response") becomes "0". */
export function codeLabel(code: number): string {
  return CODES[codeNumber(code)]!;
}

/**
 * Admits at most `max` distinct values; later newcomers map to `overflow`.
 * First come, first kept: once admitted, a value keeps its own series for
 * the life of the process, so dashboards do not flap.
 */
export class BoundedLabel {
  readonly #max: number;
  readonly #overflow: string;
  readonly #seen = new Set<string>();

  constructor(max: number, overflow: string = OVERFLOW_LABEL) {
    this.#max = max;
    this.#overflow = overflow;
  }

  /** The label value to use for `value`. The empty string passes through and does not count. */
  label(value: string): string {
    if (value === '' || this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#max) return this.#overflow;
    this.#seen.add(value);
    return value;
  }
}
