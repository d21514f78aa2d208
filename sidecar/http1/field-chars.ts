/**
 * Byte classes of the HTTP grammar (RFC 9110 §5.6.2 tchar, §5.5 field-vchar
 * and obs-text, RFC 9112 §7.1.1 quoted-string), as lookup tables indexed by
 * byte so that a scan costs one array read per byte.
 */

/** tchar: `!#$%&'*+-.^_\`|~`, digits and letters (RFC 9110 §5.6.2). */
export const TCHAR = new Uint8Array(256);
/** Bytes allowed inside a field value: HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5). */
export const FIELD_VALUE = new Uint8Array(256);
/** qdtext of a quoted-string: HTAB, SP, `!`, `#`-`[`, `]`-`~`, obs-text (RFC 9110 §5.6.4). */
export const QDTEXT = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  TCHAR[c] = alnum || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)) ? 1 : 0;
  FIELD_VALUE[c] = c === 0x09 || (c >= 0x20 && c !== 0x7f) ? 1 : 0;
  QDTEXT[c] = c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80 ? 1 : 0;
}

/** True for SP and HTAB (OWS / BWS, RFC 9110 §5.6.3). */
export function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** True when `s` is a token (a valid field name or method). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** True when `s` may be sent as a field value: no CR, LF, NUL or other control byte but HTAB, nothing above 0xff. */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] !== 1) return false;
  }
  return true;
}
