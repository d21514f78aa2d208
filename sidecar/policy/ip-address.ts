/**
 * IP address text → bytes, without allocating: the request path parses the
 * peer's and the forwarded client's address on every request that a rule
 * with address conditions looks at.
 */

/** Address family of a parsed address: 4, 6, or 0 when the text is not an address. */
export type IpFamily = 0 | 4 | 6;

const COLON = 0x3a;
const DOT = 0x2e;

/** Groups of an IPv6 address while it is parsed; reused, parsing runs to completion synchronously. */
const groups = new Uint16Array(8);

/**
 * Parses `text[start, end)` as an IPv4 dotted quad or an IPv6 address
 * (RFC 4291 §2.2 text forms, including `::` and a dotted-quad tail) into
 * `out` (at least 16 bytes). Returns the family, or 0 when the text is not
 * an address (zone IDs such as `fe80::1%eth0` included: they cannot be
 * compared across hosts). IPv4 bytes go to out[0..3].
 *
 * Why IPv4-mapped IPv6 (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2) comes back as
 * IPv4: a dual-stack socket reports IPv4 clients that way, and a rule
 * written for 192.0.2.0/24 must see them as the IPv4 clients they are.
 */
export function parseIpInto(text: string, start: number, end: number, out: Uint8Array): IpFamily {
  if (end - start < 2) return 0;
  let sawColon = false;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === COLON) {
      sawColon = true;
      break;
    }
  }
  if (!sawColon) return parseIpv4(text, start, end, out, 0) ? 4 : 0;
  if (!parseIpv6(text, start, end)) return 0;
  for (let g = 0; g < 8; g++) {
    out[2 * g] = groups[g]! >> 8;
    out[2 * g + 1] = groups[g]! & 0xff;
  }
  if (isMappedIpv4(out)) {
    out[0] = out[12]!;
    out[1] = out[13]!;
    out[2] = out[14]!;
    out[3] = out[15]!;
    return 4;
  }
  return 6;
}

/** True when the 16 bytes are ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
export function isMappedIpv4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Dotted quad into out[at..at+3]. Leading zeros are refused: some parsers
 * read `010` as octal 8, so its meaning is not agreed.
 */
function parseIpv4(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? DOT : text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || part > 3) return false;
      out[at + part] = value;
      part++;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39) return false;
    if (digits > 0 && value === 0) return false; // leading zero
    value = value * 10 + (c - 0x30);
    digits++;
    if (value > 255) return false;
  }
  return part === 4;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Scratch for an embedded dotted quad. */
const quad = new Uint8Array(4);

/** IPv6 text into `groups`; false when malformed. */
function parseIpv6(text: string, start: number, end: number): boolean {
  let g = 0;
  let gap = -1; // index in groups where '::' stands
  let i = start;
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    let value = 0;
    let j = i;
    while (j < end && j - i < 5) {
      const d = hexDigit(text.charCodeAt(j));
      if (d < 0) break;
      value = value * 16 + d;
      j++;
    }
    if (j < end && text.charCodeAt(j) === DOT) {
      // Dotted-quad tail: the last 32 bits (RFC 4291 §2.2 form 3).
      if (g > 6 || !parseIpv4(text, i, end, quad, 0)) return false;
      groups[g++] = (quad[0]! << 8) | quad[1]!;
      groups[g++] = (quad[2]! << 8) | quad[3]!;
      i = end;
      break;
    }
    if (j === i || j - i > 4 || g === 8) return false;
    groups[g++] = value;
    i = j;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = g;
      i++;
    } else if (i === end) {
      return false; // a single trailing ':'
    }
  }
  if (gap < 0) return g === 8;
  if (g > 7) return false;
  const tail = g - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[g - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}

/** The address in canonical text: dotted quad, or RFC 5952 §4 for IPv6 (lowercase, longest zero run as '::'). */
export function formatIp(family: 4 | 6, b: Uint8Array): string {
  if (family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((b[2 * k]! << 8) | b[2 * k + 1]!);
  let bestAt = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: '::' never stands for a single group
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestAt = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/**
 * Parses one client address as a forwarding header gives it: an IPv4 or
 * IPv6 address, optionally with a port (`192.0.2.7:4711`, `[2001:db8::7]`,
 * `[2001:db8::7]:4711`, RFC 7239 §6), surrounding blanks ignored. Anything
 * else (`unknown`, obfuscated identifiers, host names) returns 0.
 */
export function parseForwardedInto(text: string, out: Uint8Array): IpFamily {
  let s = 0;
  let e = text.length;
  while (s < e && (text.charCodeAt(s) === 0x20 || text.charCodeAt(s) === 0x09)) s++;
  while (e > s && (text.charCodeAt(e - 1) === 0x20 || text.charCodeAt(e - 1) === 0x09)) e--;
  if (s === e) return 0;
  if (text.charCodeAt(s) === 0x5b) {
    const close = text.indexOf(']', s);
    if (close < 0 || close >= e || !isPortSuffix(text, close + 1, e)) return 0;
    if (text.lastIndexOf(':', close) <= s) return 0; // brackets hold IPv6 only
    return parseIpInto(text, s + 1, close, out);
  }
  let colons = 0;
  let lastColon = -1;
  for (let i = s; i < e; i++) {
    if (text.charCodeAt(i) === COLON) {
      colons++;
      lastColon = i;
    }
  }
  if (colons === 1) {
    if (!isPortSuffix(text, lastColon, e)) return 0;
    return parseIpv4(text, s, lastColon, out, 0) ? 4 : 0;
  }
  return parseIpInto(text, s, e, out);
}

/** True for '' or ':' followed by 1-5 digits, exactly filling [i, e). */
function isPortSuffix(text: string, i: number, e: number): boolean {
  if (i === e) return true;
  if (text.charCodeAt(i) !== COLON || e - i < 2 || e - i > 6) return false;
  for (let k = i + 1; k < e; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
