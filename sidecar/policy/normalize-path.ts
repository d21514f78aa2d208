/**
 * Request-path normalisation: the one spelling of a path that policy decides
 * on AND that the proxy forwards to the app.
 *
 * Why forward the normalised path instead of the original: the path-based
 * authorization bypasses in Envoy and Istio (CVE-2019-9901 dot segments,
 * CVE-2021-29492 and CVE-2021-31920 escaped slashes) came from the proxy and
 * the app reading one request-target in two ways. If the
 * app receives exactly the string policy matched, there is no second reading
 * left to disagree with. The rewrites below are RFC 3986 §6.2.2 equivalences
 * (case of %XX, decoding unreserved characters, dot segments) plus merging
 * `//`, which every mainstream server already does, so a correct app sees no
 * difference. Where no equivalence is safe to assume (encoded `/` or `\`,
 * `;` path parameters, NUL and controls, malformed %XX) we reject with a
 * reason, which the proxy answers with 400, rather than guess how the app
 * would read it. The query is passed through untouched (policy does not look
 * at it); a fragment is dropped (it never belongs in a request-target,
 * RFC 9112 §3.2).
 */

/** Result of {@link normalizePath}. */
export type NormalizedPath =
  | {
      readonly ok: true;
      /** The normalised path, without query: what policy matches against. */
      readonly path: string;
      /** What the proxy must send upstream: `path` plus the original `?query`, fragment dropped. */
      readonly forwardTarget: string;
    }
  | {
      readonly ok: false;
      /** Why the target was refused, in words (for logs and the 400 body). */
      readonly reason: string;
    };

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const QUESTION = 0x3f;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;

/** RFC 3986 §2.3 unreserved: ALPHA DIGIT - . _ ~ (decoded when percent-encoded). */
const UNRESERVED = new Uint8Array(128);
/** Characters allowed literally in a path (RFC 3986 §3.3 pchar and '/'), except '%' and ';', handled apart. */
const PATH_LITERAL = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
  UNRESERVED[c] = alnum || '-._~'.includes(ch) ? 1 : 0;
  PATH_LITERAL[c] = UNRESERVED[c] === 1 || "!$&'()*+,=:@/".includes(ch) ? 1 : 0;
}
const HEX_DIGITS = '0123456789ABCDEF';

function fail(reason: string): NormalizedPath {
  return Object.freeze({ ok: false, reason });
}

// Failures are shared constants: refusing a request allocates nothing.
const NOT_A_STRING = fail('request target is not a string');
const EMPTY = fail('empty request target');
const NOT_ORIGIN_FORM = fail('request target must start with "/" (origin-form, RFC 9112 §3.2.1)');
const CONTROL_OR_NON_ASCII = fail('control, space or non-ASCII character in request target');
const BACKSLASH_IN_PATH = fail('backslash in path: servers disagree on whether it separates segments');
const SEMICOLON_IN_PATH = fail(
  'semicolon in path: servers disagree on path parameters (Tomcat and Jetty read "/..;/" as "/../")',
);
const CHAR_NOT_ALLOWED = fail('character not allowed in a path (RFC 3986 §3.3); percent-encode it');
const MALFORMED_PERCENT = fail('malformed percent-encoding in path (need "%" and two hex digits)');
const ENCODED_SEPARATOR = fail(
  'percent-encoded "/" or "\\" (%2F, %5C) in path: servers disagree on whether it separates segments',
);
const ENCODED_CONTROL = fail('percent-encoded NUL or control character in path');

/**
 * Normalises a raw request-target (`req.url` or HTTP/2 `:path`) for policy
 * matching and forwarding; never throws. Rules, in order:
 *
 * 1. Origin-form only: must start with '/' ('*' and absolute-form are refused).
 * 2. Controls, space and non-ASCII anywhere in the target are refused.
 * 3. In the path: '\' and ';' are refused, as is any other character outside
 *    RFC 3986 pchar. The query (after '?') keeps any visible ASCII; the
 *    fragment (after '#') is dropped.
 * 4. %XX must be well formed. %2F, %5C and encoded controls (including %00)
 *    are refused. Unreserved characters are decoded (`%41` → `A`, `%7e` → `~`);
 *    every other %XX is kept, with uppercase hex (RFC 3986 §6.2.2.1-2).
 * 5. Empty segments are merged (`//a` → `/a`), then '.' and '..' segments are
 *    resolved (RFC 3986 §5.2.4), including those produced by step 4
 *    (`/%2e%2e/`). '..' above the root stays at the root. A trailing '/' is
 *    kept, and added when the last segment was '.' or '..'.
 * 6. Case is preserved: `/ADMIN` and `/admin` are different paths.
 *
 * The result is a fixed point: normalising `path` again returns `path`.
 * Paths that need no rewriting are returned without copying.
 */
export function normalizePath(raw: string): NormalizedPath {
  if (typeof raw !== 'string') return NOT_A_STRING;
  const n = raw.length;
  if (n === 0) return EMPTY;
  if (raw.charCodeAt(0) !== SLASH) return NOT_ORIGIN_FORM;

  let pathEnd = n;
  let needsRewrite = false;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === QUESTION || c === HASH) {
      pathEnd = i;
      break;
    }
    if (c === PERCENT) {
      needsRewrite = true;
    } else if (c === SLASH) {
      if (!needsRewrite && removableSegmentAt(raw, i + 1, n)) needsRewrite = true;
    } else if (c >= 0x80 || PATH_LITERAL[c] !== 1) {
      return refusedChar(c);
    }
  }

  let hashAt = -1;
  for (let i = pathEnd; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return CONTROL_OR_NON_ASCII;
    if (c === HASH && hashAt === -1) hashAt = i;
  }
  const targetEnd = hashAt === -1 ? n : hashAt;

  if (!needsRewrite) {
    const path = pathEnd === n ? raw : raw.slice(0, pathEnd);
    const forwardTarget = targetEnd === n ? raw : raw.slice(0, targetEnd);
    return { ok: true, path, forwardTarget };
  }
  const path = rewritePath(raw, pathEnd);
  if (typeof path !== 'string') return path;
  return { ok: true, path, forwardTarget: pathEnd === targetEnd ? path : path + raw.slice(pathEnd, targetEnd) };
}

function refusedChar(c: number): NormalizedPath {
  if (c < 0x21 || c > 0x7e) return CONTROL_OR_NON_ASCII;
  if (c === BACKSLASH) return BACKSLASH_IN_PATH;
  if (c === SEMICOLON) return SEMICOLON_IN_PATH;
  return CHAR_NOT_ALLOWED;
}

function isPathEnd(raw: string, i: number, n: number): boolean {
  if (i >= n) return true;
  const c = raw.charCodeAt(i);
  return c === QUESTION || c === HASH;
}

/** True when the segment starting at `i` is empty (but not the final one), '.' or '..'. */
function removableSegmentAt(raw: string, i: number, n: number): boolean {
  if (isPathEnd(raw, i, n)) return false; // trailing slash: kept as is
  const c = raw.charCodeAt(i);
  if (c === SLASH) return true;
  if (c !== DOT) return false;
  if (isPathEnd(raw, i + 1, n) || raw.charCodeAt(i + 1) === SLASH) return true;
  if (raw.charCodeAt(i + 1) !== DOT) return false;
  return isPathEnd(raw, i + 2, n) || raw.charCodeAt(i + 2) === SLASH;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Slow path: decodes segment by segment (so a decoded '.' counts towards a
 * dot segment), then merges empty segments and resolves dot segments.
 * Characters were already checked by the caller.
 */
function rewritePath(raw: string, pathEnd: number): string | NormalizedPath {
  const out: string[] = [];
  let seg = '';
  for (let i = 1; i <= pathEnd; i++) {
    const c = i === pathEnd ? SLASH : raw.charCodeAt(i);
    if (c === SLASH) {
      if (seg === '..') out.pop();
      else if (seg !== '' && seg !== '.') out.push(seg);
      if (i === pathEnd) break;
      seg = '';
      continue;
    }
    if (c !== PERCENT) {
      seg += raw[i];
      continue;
    }
    const hi = i + 1 < pathEnd ? hexValue(raw.charCodeAt(i + 1)) : -1;
    const lo = i + 2 < pathEnd ? hexValue(raw.charCodeAt(i + 2)) : -1;
    if (hi < 0 || lo < 0) return MALFORMED_PERCENT;
    const v = hi * 16 + lo;
    if (v === SLASH || v === BACKSLASH) return ENCODED_SEPARATOR;
    if (v < 0x20 || v === 0x7f) return ENCODED_CONTROL;
    seg += v < 0x80 && UNRESERVED[v] === 1 ? String.fromCharCode(v) : '%' + HEX_DIGITS[hi] + HEX_DIGITS[lo];
    i += 2;
  }
  // `seg` now holds the last segment: '', '.' or '..' there means the path names a directory.
  const trailingSlash = out.length > 0 && (seg === '' || seg === '.' || seg === '..');
  return '/' + out.join('/') + (trailingSlash ? '/' : '');
}
