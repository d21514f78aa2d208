import { ProtoError } from './proto-error.ts';

// The protobuf binary wire format, as far as the Workload API messages need
// it (Protocol Buffers "Encoding" guide, protobuf.dev/programming-guides/encoding):
// varints, 64-bit doubles, length-delimited strings, bytes and sub-messages.
// Groups (wire types 3 and 4) are proto2-only and refused.

/** Wire type of varint fields (int32, uint64, bool, enum). */
export const WIRE_VARINT = 0;
/** Wire type of 8-byte fields (double, fixed64). */
export const WIRE_I64 = 1;
/** Wire type of length-delimited fields (string, bytes, messages, map entries). */
export const WIRE_LEN = 2;
/** Wire type of 4-byte fields (float, fixed32). */
export const WIRE_I32 = 5;

/** Largest length or tag the decoder accepts; larger values cannot fit a message anyway. */
const MAX_LENGTH = 0x7fff_ffff;
/** Nesting limit for sub-messages (Struct inside Value inside Struct ...); go-protobuf's default is far higher, 64 is ample here. */
export const MAX_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A message's declared fields, by number: name and wire type. Decoders use
 * it to skip unknown fields (proto3 keeps them forward compatible) while
 * refusing a known field sent with the wrong wire type.
 */
export interface FieldTable {
  readonly message: string;
  readonly fields: ReadonlyMap<number, { readonly name: string; readonly wire: number }>;
}

/** Builds a {@link FieldTable} from `[number, name, wire type]` rows. */
export function fieldTable(message: string, rows: readonly (readonly [number, string, number])[]): FieldTable {
  return { message, fields: new Map(rows.map(([n, name, wire]) => [n, { name, wire }])) };
}

/**
 * Reads one encoded message: tags, scalars and nested messages, each bounded
 * by the enclosing message's end. Every malformed input throws a
 * {@link ProtoError}; nothing reads past the buffer.
 */
export class ProtoReader {
  readonly #buf: Buffer;
  readonly #what: string;
  #pos = 0;
  #limit: number;
  #depth = 0;

  /** `what` names the top-level message in error messages. */
  constructor(buf: Uint8Array, what: string) {
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#limit = this.#buf.length;
    this.#what = what;
  }

  /** True while the current (sub-)message has bytes left. */
  more(): boolean {
    return this.#pos < this.#limit;
  }

  #fail(code: ConstructorParameters<typeof ProtoError>[0], problem: string): never {
    throw new ProtoError(code, `${this.#what}: ${problem} at byte ${this.#pos}`);
  }

  /** A varint as a number (exact up to 2^53; larger values lose low bits, which no caller needs). */
  varint(): number {
    const buf = this.#buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#limit) this.#fail('proto.truncated', 'truncated varint');
      const b = buf[this.#pos++]!;
      // The 10th byte of a 64-bit varint carries one bit; more overflows 64 bits.
      if (i === 9 && b > 1) this.#fail('proto.varint_too_long', 'varint overflows 64 bits');
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.#fail('proto.varint_too_long', 'varint longer than 10 bytes');
  }

  /**
   * The next field's tag (field number << 3 | wire type). Field number 0 and
   * the undefined wire types 6 and 7 are refused here, groups in {@link skip}.
   */
  tag(): number {
    const tag = this.varint();
    if (tag > 0xffff_ffff) this.#fail('proto.length_out_of_range', 'field number above 2^29-1');
    if (tag >>> 3 === 0) this.#fail('proto.bad_field_number', 'field number 0');
    const wire = tag & 7;
    if (wire === 6 || wire === 7) this.#fail('proto.bad_wire_type', `field ${tag >>> 3} has undefined wire type ${wire}`);
    return tag;
  }

  #length(): number {
    const len = this.varint();
    if (len > MAX_LENGTH) this.#fail('proto.length_out_of_range', `length ${len} above 2^31-1`);
    if (len > this.#limit - this.#pos) this.#fail('proto.truncated', `length ${len} runs past the end of the message`);
    return len;
  }

  /** A `bytes` field, copied so that the message does not pin the receive buffer. */
  bytes(): Buffer {
    const len = this.#length();
    const out = Buffer.from(this.#buf.subarray(this.#pos, this.#pos + len));
    this.#pos += len;
    return out;
  }

  /** A `string` field; proto3 requires valid UTF-8. */
  string(): string {
    const len = this.#length();
    const start = this.#pos;
    this.#pos += len;
    if (len === 0) return '';
    try {
      return utf8.decode(this.#buf.subarray(start, start + len));
    } catch (err) {
      this.#pos = start;
      throw new ProtoError('proto.bad_utf8', `${this.#what}: string field at byte ${start} is not valid UTF-8`, { cause: err });
    }
  }

  /** A `double` field (8 bytes, little-endian). */
  double(): number {
    if (this.#limit - this.#pos < 8) this.#fail('proto.truncated', 'truncated double');
    const v = this.#buf.readDoubleLE(this.#pos);
    this.#pos += 8;
    return v;
  }

  /**
   * Enters a length-delimited sub-message: from here until {@link leave},
   * reads stop at its end. Returns what `leave` needs to restore.
   */
  enter(): number {
    const len = this.#length();
    if (++this.#depth > MAX_DEPTH) this.#fail('proto.too_deep', `messages nested deeper than ${MAX_DEPTH}`);
    const outer = this.#limit;
    this.#limit = this.#pos + len;
    return outer;
  }

  /** Leaves the sub-message entered by {@link enter}. */
  leave(outer: number): void {
    this.#pos = this.#limit;
    this.#limit = outer;
    this.#depth--;
  }

  /**
   * Skips a field `table` does not declare; a declared field with another
   * wire type than its declaration is an error, not an unknown field.
   */
  skip(tag: number, table: FieldTable): void {
    const field = tag >>> 3;
    const wire = tag & 7;
    const known = table.fields.get(field);
    if (known !== undefined) {
      this.#fail('proto.wire_type_mismatch', `${table.message}.${known.name} (field ${field}) has wire type ${wire}, expected ${known.wire}`);
    }
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.#advance(8);
        return;
      case WIRE_LEN:
        this.#advance(this.#length());
        return;
      case WIRE_I32:
        this.#advance(4);
        return;
      default:
        this.#fail('proto.bad_wire_type', `${table.message} field ${field} uses a group (wire type ${wire}), which proto3 has not`);
    }
  }

  #advance(n: number): void {
    if (this.#limit - this.#pos < n) this.#fail('proto.truncated', `field of ${n} bytes runs past the end of the message`);
    this.#pos += n;
  }
}

/** Encodes one message; fields are written in the order of the calls. */
export class ProtoWriter {
  #buf: Buffer = Buffer.allocUnsafe(128);
  #pos = 0;

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** A non-negative integer as a varint (exact up to 2^53). */
  varint(v: number): void {
    this.#ensure(10);
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#pos++] = v;
  }

  #tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A varint field (enum, bool as 0/1). */
  varintField(field: number, v: number): void {
    this.#tag(field, WIRE_VARINT);
    this.varint(v);
  }

  /** A `double` field. */
  doubleField(field: number, v: number): void {
    this.#tag(field, WIRE_I64);
    this.#ensure(8);
    this.#buf.writeDoubleLE(v, this.#pos);
    this.#pos += 8;
  }

  /** A `bytes` or encoded sub-message field. */
  bytesField(field: number, data: Uint8Array): void {
    this.#tag(field, WIRE_LEN);
    this.varint(data.length);
    this.#ensure(data.length);
    this.#buf.set(data, this.#pos);
    this.#pos += data.length;
  }

  /** A `string` field, UTF-8. */
  stringField(field: number, s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.#tag(field, WIRE_LEN);
    this.varint(len);
    this.#ensure(len);
    this.#pos += this.#buf.write(s, this.#pos, len, 'utf8');
  }

  /** The encoded bytes (a view of this writer's buffer; the writer is done). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }
}
