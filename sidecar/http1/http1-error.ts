import { SidecarError } from '../core/index.ts';

/**
 * Every reason an HTTP/1.1 message is refused by the parser or the head
 * writer; one code per framing rule (RFC 9112, RFC 9110).
 */
export type Http1ErrorCode =
  /** A line ends in LF without CR (RFC 9112 §2.2: we do not accept bare LF). */
  | 'http1.bare_lf'
  /** A CR that is not followed by LF. */
  | 'http1.bare_cr'
  /** The request line is not `method SP request-target SP HTTP-version` (RFC 9112 §3). */
  | 'http1.bad_request_line'
  /** The method is not a token (RFC 9110 §9.1). */
  | 'http1.bad_method'
  /** The request-target is empty or has a byte outside visible ASCII (RFC 9112 §3.2). */
  | 'http1.bad_target'
  /** The version is not `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3). */
  | 'http1.bad_version'
  /** A well-formed version whose major is not 1 (answered 505, RFC 9110 §15.6.6). */
  | 'http1.unsupported_version'
  /** The status line is not `HTTP-version SP 3DIGIT SP reason` (RFC 9112 §4). */
  | 'http1.bad_status_line'
  /** A field line starts with whitespace: obs-fold (RFC 9112 §5.2). */
  | 'http1.obs_fold'
  /** Whitespace between a field name and its colon (RFC 9112 §5.1). */
  | 'http1.space_before_colon'
  /** A field name that is empty or not a token, or a line without a colon (RFC 9110 §5.1). */
  | 'http1.bad_header_name'
  /** A field value with a control character (RFC 9110 §5.5). */
  | 'http1.bad_header_value'
  /** The head (or the trailer section) is larger than maxHeaderBytes (answered 431). */
  | 'http1.header_too_large'
  /** More field lines than maxHeaderCount (answered 431). */
  | 'http1.too_many_headers'
  /** Content-Length is not 1*DIGIT or above 2^53-1 (RFC 9110 §8.6). */
  | 'http1.bad_content_length'
  /** Content-Length given twice or as a list: refused, even with equal values (RFC 9110 §8.6 allows either). */
  | 'http1.duplicate_content_length'
  /** Both Content-Length and Transfer-Encoding (RFC 9112 §6.3 item 3: refused, a smuggling vector). */
  | 'http1.content_length_with_transfer_encoding'
  /** Transfer-Encoding whose final coding is not `chunked`, or chunked twice (RFC 9112 §6.3 item 4, §6.1). */
  | 'http1.chunked_not_final'
  /** A transfer coding other than a lone `chunked` (answered 501, RFC 9112 §6.1). */
  | 'http1.unsupported_transfer_encoding'
  /** Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: the framing is faulty). */
  | 'http1.transfer_encoding_http10'
  /** An HTTP/1.1 request without Host, or with more than one (RFC 9112 §3.2). */
  | 'http1.bad_host'
  /** An Expect value other than `100-continue` (answered 417, RFC 9110 §10.1.1). */
  | 'http1.unsupported_expectation'
  /** A chunk-size that is not hex or larger than 2^52 (RFC 9112 §7.1). */
  | 'http1.bad_chunk_size'
  /** A chunk extension that is not `;name[=token|quoted-string]`, or too long (RFC 9112 §7.1.1). */
  | 'http1.bad_chunk_extension'
  /** Chunk data not followed by CRLF (RFC 9112 §7.1). */
  | 'http1.bad_chunk_terminator'
  /** The connection ended inside a message (a Content-Length or chunked body cut short). */
  | 'http1.truncated'
  /** A field name or value the proxy was asked to send is not valid on the wire. */
  | 'http1.invalid_outgoing_field';

/** The status a server answers for each request-side code; 400 when not listed. */
const STATUS: Partial<Record<Http1ErrorCode, number>> = {
  'http1.header_too_large': 431,
  'http1.too_many_headers': 431,
  'http1.unsupported_transfer_encoding': 501,
  'http1.unsupported_version': 505,
  'http1.unsupported_expectation': 417,
};

/** Raised when an HTTP/1.1 message breaks a framing or syntax rule. */
export class Http1Error extends SidecarError {
  declare readonly code: Http1ErrorCode;

  constructor(code: Http1ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `http1: ${message}`, options);
  }

  /** The status a server answers a request refused with this error (400, 417, 431, 501 or 505). */
  get status(): number {
    return STATUS[this.code] ?? 400;
  }
}
