import { isFieldValue, isToken } from './field-chars.ts';
import { Http1Error } from './http1-error.ts';

const SP = 0x20;
const COLON = 0x3a;
const CR = 0x0d;
const LF = 0x0a;

/**
 * The plan of one head, reused (the writer runs to completion before
 * anything else does): pairs of (start, end) for a byte range of the
 * parsed head to copy, or (-1 - i, 0) for the field at headers[i] to
 * serialise.
 */
let plan = new Int32Array(64);

function planned(n: number): Int32Array {
  if (n > plan.length) {
    const bigger = new Int32Array(Math.max(n, plan.length * 2));
    bigger.set(plan);
    plan = bigger;
  }
  return plan;
}

/**
 * Serialises a request head into one Buffer, copying each field of
 * `headers` that a parsed head already holds from that head's bytes
 * (`source`, with the line starts `lines` and the strings `parsed` that
 * MessageParser recorded for it): no string is built and nothing is
 * validated again for those, since the parser refused every byte that
 * isToken or isFieldValue would. Other fields (the ones the proxy added or
 * changed) are serialised and validated as {@link serializeRequestHead}
 * does; then `extra` (framing lines, each ending in CRLF) and the empty line.
 *
 * A field is copied only when its name and value are, string for string,
 * those of a parsed line not used yet and after the last one copied, so
 * the copied line says what the serialised one would; only the optional
 * whitespace around the value may differ, which RFC 9110 §5.5 makes no
 * part of the value. A field that matches no such line is serialised:
 * reordered or rewritten heads still come out right, only slower.
 */
export function requestHeadFromFields(
  method: string,
  target: string,
  headers: readonly string[],
  source: Buffer,
  lines: readonly number[],
  parsed: readonly string[],
  extra: string,
): Buffer {
  const fields = lines.length - 1;
  const p = planned(headers.length);
  let n = 0;
  let size = method.length + target.length + 12 + extra.length + 2;
  let next = 0;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    let k = next;
    while (k < fields && (parsed[2 * k] !== name || parsed[2 * k + 1] !== value)) k++;
    if (k < fields) {
      const s = lines[k]!;
      const e = lines[k + 1]!;
      size += e - s;
      next = k + 1;
      // Lines that follow each other in the source are copied as one range.
      if (n > 0 && p[n - 2]! >= 0 && p[n - 1] === s) p[n - 1] = e;
      else {
        p[n++] = s;
        p[n++] = e;
      }
      continue;
    }
    if (!isToken(name)) throw new Http1Error('http1.invalid_outgoing_field', 'field name to send is not a token');
    if (!isFieldValue(value)) throw new Http1Error('http1.invalid_outgoing_field', `value of ${name} to send has a control byte`);
    size += name.length + value.length + 4;
    p[n++] = -1 - i;
    p[n++] = 0;
  }
  const out = Buffer.allocUnsafe(size);
  let o = out.write(method, 0, 'latin1');
  out[o++] = SP;
  o += out.write(target, o, 'latin1');
  o += out.write(' HTTP/1.1\r\n', o, 'latin1');
  for (let m = 0; m < n; m += 2) {
    const s = p[m]!;
    if (s >= 0) {
      o += source.copy(out, o, s, p[m + 1]!);
      continue;
    }
    const i = -1 - s;
    o += out.write(headers[i]!, o, 'latin1');
    out[o++] = COLON;
    out[o++] = SP;
    o += out.write(headers[i + 1]!, o, 'latin1');
    out[o++] = CR;
    out[o++] = LF;
  }
  o += out.write(extra, o, 'latin1');
  out[o++] = CR;
  out[o] = LF;
  return out;
}
