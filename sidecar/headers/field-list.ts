/**
 * True when `test` accepts an element of the comma-separated field value
 * `value` (the list syntax of RFC 9110 §5.6.1: elements separated by
 * commas, optional whitespace around each). The element is given as
 * offsets into `value`, so nothing is allocated, and `ctx` is passed
 * through so that callers on the request path need no closure.
 */
export function someListElement<C>(value: string, ctx: C, test: (ctx: C, value: string, start: number, end: number) => boolean): boolean {
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && value.charCodeAt(i) !== 0x2c) continue;
    let s = start;
    let e = i;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    if (test(ctx, value, s, e)) return true;
    start = i + 1;
  }
  return false;
}

/** Optional whitespace (RFC 9110 §5.6.3): space or horizontal tab. */
function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
