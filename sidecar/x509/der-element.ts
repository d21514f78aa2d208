/** One DER tag-length-value element located inside a buffer. */
export interface DerElement {
  /** The identifier octet (single-byte tags only; X.509 needs no others). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the element. */
  readonly end: number;
}

/**
 * Reads the DER element starting at `offset`, or returns a reason string when
 * the bytes there are not a complete definite-length element.
 *
 * Why a hand-written reader: splitting concatenated certificates and taking
 * the exact issuer/subject bytes (compared byte for byte during path
 * building, as RFC 5280 §7.1 allows for identical encodings) needs element
 * boundaries, not a decoded object model.
 */
export function readDerElement(buf: Uint8Array, offset: number): DerElement | string {
  if (offset >= buf.length) return 'unexpected end of data';
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) return 'multi-byte tags are not supported';
  if (offset + 1 >= buf.length) return 'truncated length';
  const first = buf[offset + 1]!;
  let len: number;
  let contentStart: number;
  if (first < 0x80) {
    len = first;
    contentStart = offset + 2;
  } else {
    const n = first & 0x7f;
    // 0x80 is BER's indefinite length, forbidden in DER; 4 length bytes cover any sane certificate.
    if (n === 0) return 'indefinite length is not DER';
    if (n > 4) return 'length too large';
    if (offset + 2 + n > buf.length) return 'truncated length';
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    if (buf[offset + 2] === 0 || len < 0x80) return 'non-minimal length encoding';
    contentStart = offset + 2 + n;
  }
  const end = contentStart + len;
  if (end > buf.length) return `element of ${len} bytes overruns the data`;
  return { tag, start: offset, contentStart, end };
}
