import { SidecarError } from '../core/index.ts';

/** Stable codes of {@link ProtoError}; tests and callers match on them. */
export type ProtoErrorCode =
  /** A varint, length-delimited field or fixed-size value runs past the end of its message. */
  | 'proto.truncated'
  /** A varint longer than 10 bytes (more than 64 bits). */
  | 'proto.varint_too_long'
  /** A length or tag larger than the decoder accepts (over 2^31-1, or a field number over 2^29-1). */
  | 'proto.length_out_of_range'
  /** Field number 0, which no message may use. */
  | 'proto.bad_field_number'
  /** Wire type 6 or 7 (undefined), or 3/4 (groups, which proto3 messages never use). */
  | 'proto.bad_wire_type'
  /** A field this decoder knows arrived with another wire type than its declaration. */
  | 'proto.wire_type_mismatch'
  /** A `string` field that is not valid UTF-8. */
  | 'proto.bad_utf8'
  /** google.protobuf.Struct / Value nested deeper than the decoder allows. */
  | 'proto.too_deep'
  /** An object to encode has a member of the wrong JavaScript type. */
  | 'proto.bad_value';

/**
 * A Workload API message that cannot be decoded or encoded (protobuf wire
 * format). The message starts with `proto:` and names the message and field.
 */
export class ProtoError extends SidecarError {
  declare readonly code: ProtoErrorCode;

  constructor(code: ProtoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `proto: ${message}`, options);
  }
}
