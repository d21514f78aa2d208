import { FIELD_VALUE, QDTEXT, TCHAR, isWhitespace } from './field-chars.ts';
import { Http1Error } from './http1-error.ts';
import { fieldName } from './field-names.ts';

/**
 * Where a {@link MessageParser} delivers a message. The head's fields are
 * read from the parser itself in {@link onHead}, so a message costs no head
 * object; body chunks are views into the buffer passed to `execute` (copy
 * one to keep it past the call).
 */
export interface MessageSink {
  /** A complete head (for a response, never an informational 1xx other than 101). */
  onHead(): void;
  /** A piece of the body, de-chunked. */
  onBody(chunk: Buffer): void;
  /** The message is complete; `trailers` (name, value, ...) when a chunked body had any. */
  onMessageEnd(trailers: string[] | null): void;
}

/** Size limits of a parser. */
export interface ParserLimits {
  /** Largest head (start line and field lines), and largest trailer section; more is `http1.header_too_large`. */
  readonly maxHeaderBytes: number;
  /** Most field lines in a head or trailer section; more is `http1.too_many_headers`. */
  readonly maxHeaderCount: number;
}

/** Default of {@link ParserLimits.maxHeaderCount}. */
export const DEFAULT_MAX_HEADER_COUNT = 256;

/** How the body of the current message is framed. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

const HEAD = 0;
const LENGTH = 1;
const CHUNK_LINE = 2;
const CHUNK_DATA = 3;
const CHUNK_CR = 4;
const CHUNK_LF = 5;
const TRAILERS = 6;
const CLOSE = 7;
const UPGRADED = 8;
const STOPPED = 9;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const COLON = 0x3a;
/** Longest chunk-size line with its extensions (RFC 9112 §7.1.1 lets a recipient limit them). */
const MAX_CHUNK_LINE = 4096;
/** 2^52: a chunk size up to 13 hex digits stays an exact JavaScript number. */
const MAX_CHUNK_HEX_DIGITS = 13;

const lower = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const N_CONTENT_LENGTH = lower('content-length');
const N_TRANSFER_ENCODING = lower('transfer-encoding');
const N_CONNECTION = lower('connection');
const N_KEEP_ALIVE = lower('keep-alive');
const N_EXPECT = lower('expect');
const N_HOST = lower('host');
const N_UPGRADE = lower('upgrade');

/** Common methods as interned strings, so the request line allocates no method string. */
const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT'];
const METHOD_BYTES = METHODS.map((m) => Buffer.from(m, 'latin1'));

/**
 * An incremental HTTP/1.1 message parser over Buffers (RFC 9112), strict:
 * CRLF only, no obs-fold, no whitespace before a colon, one Content-Length,
 * no Content-Length with Transfer-Encoding, `chunked` as the only transfer
 * coding, size and count limits on the head and the trailers. Violations
 * throw {@link Http1Error}; the parser is then unusable and the connection
 * must be closed.
 *
 * `execute` returns after each complete message (or a switch of protocols),
 * so the owner decides what the bytes after it are: the next pipelined
 * request, the next response, or the upgraded protocol. Duplicate
 * Content-Length fields are refused even when their values agree (RFC 9110
 * §8.6 allows merging them); llhttp, which node:http and undici use, does
 * the same.
 */
export class MessageParser {
  readonly isRequest: boolean;
  readonly #sink: MessageSink;
  readonly #maxBytes: number;
  readonly #maxCount: number;

  // ---- the current head (valid from onHead until the next message) ----
  /** Request method (interned for common ones). */
  method = '';
  /** Request-target as received. */
  target = '';
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and any later 1.x, RFC 9112 §2.3). */
  versionMinor = 1;
  /** Response status code. */
  status = 0;
  /** Field lines as received: name, value, name, value... (values without surrounding whitespace). */
  raw: string[] = [];
  /** Content-Length, or -1 when there is none. */
  contentLength = -1;
  /** How the body is framed. */
  framing: BodyFraming = 'none';
  /** The connection may carry another message after this one (RFC 9112 §9.3). */
  keepAlive = true;
  /** The request has `Expect: 100-continue`. */
  expectContinue = false;
  /** Connection lists `upgrade` and an Upgrade field is present. */
  upgrade = false;
  /** A Keep-Alive `timeout=` hint of a response, in seconds; 0 when none. */
  keepAliveTimeoutS = 0;
  /** Bytes of the head, start line to the empty line. */
  headBytes = 0;
  /** The next response answers a HEAD request: it has no body whatever its fields say (RFC 9110 §9.3.2). Set by the owner. */
  noBody = false;

  #state = HEAD;
  #pending: Buffer | null = null;
  /** Bytes of the pending head or trailer section already scanned, up to the start of its last line. */
  #scanned = 0;
  #remaining = 0;
  #trailerCount = 0;

  constructor(kind: 'request' | 'response', sink: MessageSink, limits: ParserLimits) {
    this.isRequest = kind === 'request';
    this.#sink = sink;
    this.#maxBytes = limits.maxHeaderBytes;
    this.#maxCount = limits.maxHeaderCount;
  }

  /** True when no byte of a message has arrived since the last one ended (a clean place for EOF). */
  get idle(): boolean {
    return this.#state === HEAD && this.#pending === null;
  }

  /** True after a 101 response, or after {@link upgradeNow}: the rest of the connection is not HTTP/1.1. */
  get upgraded(): boolean {
    return this.#state === UPGRADED;
  }

  /** True once the head of the current message was parsed and its body has not ended. */
  get inBody(): boolean {
    const s = this.#state;
    return s !== HEAD && s !== UPGRADED && s !== STOPPED;
  }

  /**
   * Called from onHead: the bytes after this head belong to another
   * protocol (a WebSocket request); `execute` returns at the end of the head.
   */
  upgradeNow(): void {
    this.#state = UPGRADED;
  }

  /** Stops parsing: `execute` consumes nothing more (the owner gave up on the connection). */
  stop(): void {
    this.#state = STOPPED;
    this.#pending = null;
  }

  /**
   * Parses as much of `chunk` as belongs to the current message and returns
   * how many bytes were consumed: all of them, or fewer when a message ended
   * (or the protocol switched) inside the chunk.
   */
  execute(chunk: Buffer): number {
    let buf = chunk;
    let prefix = 0;
    if (this.#pending !== null) {
      prefix = this.#pending.length;
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    const end = buf.length;
    let off = 0;
    while (off < end) {
      switch (this.#state) {
        case HEAD: {
          if (this.isRequest && this.#scanned === 0) {
            // RFC 9112 §2.2: empty lines before a request-line are ignored.
            while (off + 1 < end && buf[off] === CR && buf[off + 1] === LF) off += 2;
            if (off === end) return end - prefix;
            if (buf[off] === LF) throw new Http1Error('http1.bare_lf', 'a line ends with LF alone');
            if (off + 1 === end && buf[off] === CR) {
              this.#stash(buf, off, end);
              return end - prefix;
            }
          }
          const stop = this.#findEnd(buf, off, end);
          if (stop === -1) {
            // Refuse a start line that is already wrong (a TLS ClientHello, say)
            // instead of waiting for a line end that may never come.
            if (this.isRequest) checkMethodPrefix(buf, off, end);
            this.#stash(buf, off, end);
            return end - prefix;
          }
          this.#parseHead(buf, off, stop);
          off = stop;
          if (this.#afterHead()) return off - prefix;
          break;
        }
        case LENGTH: {
          const n = Math.min(this.#remaining, end - off);
          this.#remaining -= n;
          const piece = buf.subarray(off, off + n);
          off += n;
          this.#sink.onBody(piece);
          if (this.#remaining === 0 && this.#state === LENGTH) {
            this.#messageEnd(null);
            return off - prefix;
          }
          break;
        }
        case CLOSE: {
          const piece = off === 0 ? buf : buf.subarray(off);
          off = end;
          this.#sink.onBody(piece);
          break;
        }
        case CHUNK_LINE: {
          const lf = buf.indexOf(LF, off);
          if (lf === -1 || lf - off > MAX_CHUNK_LINE) {
            if (end - off > MAX_CHUNK_LINE) throw new Http1Error('http1.bad_chunk_extension', `chunk-size line longer than ${MAX_CHUNK_LINE} bytes`);
            this.#stash(buf, off, end);
            return end - prefix;
          }
          const size = parseChunkLine(buf, off, lf);
          off = lf + 1;
          if (size === 0) {
            this.#state = TRAILERS;
            this.#scanned = 0;
          } else {
            this.#remaining = size;
            this.#state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.#remaining, end - off);
          this.#remaining -= n;
          const piece = buf.subarray(off, off + n);
          off += n;
          if (this.#remaining === 0) this.#state = CHUNK_CR;
          this.#sink.onBody(piece);
          break;
        }
        case CHUNK_CR:
          if (buf[off] !== CR) throw new Http1Error('http1.bad_chunk_terminator', 'chunk data is not followed by CRLF');
          off++;
          this.#state = CHUNK_LF;
          break;
        case CHUNK_LF:
          if (buf[off] !== LF) throw new Http1Error('http1.bad_chunk_terminator', 'chunk data is not followed by CRLF');
          off++;
          this.#state = CHUNK_LINE;
          break;
        case TRAILERS: {
          const stop = this.#findEnd(buf, off, end);
          if (stop === -1) {
            this.#stash(buf, off, end);
            return end - prefix;
          }
          let trailers: string[] | null = null;
          if (stop - off > 2) {
            trailers = [];
            this.#trailerCount = 0;
            this.#parseFields(buf, off, stop - 2, trailers, true);
          }
          off = stop;
          this.#messageEnd(trailers);
          return off - prefix;
        }
        default:
          // UPGRADED or STOPPED: nothing here is ours.
          return off - prefix;
      }
    }
    return end - prefix;
  }

  /**
   * The connection ended (EOF). Ends a close-delimited body; throws
   * `http1.truncated` when a message was cut off inside its head or body.
   */
  finish(): void {
    const s = this.#state;
    if (s === CLOSE) {
      this.#messageEnd(null);
      return;
    }
    if (s === UPGRADED || s === STOPPED) return;
    if (s === HEAD && this.#pending === null) return;
    this.#state = STOPPED;
    throw new Http1Error('http1.truncated', s === HEAD ? 'connection closed inside a message head' : 'connection closed inside a message body');
  }

  #stash(buf: Buffer, from: number, end: number): void {
    if (from === end) return;
    // Copied: a view would keep the whole socket chunk alive.
    this.#pending = Buffer.from(buf.subarray(from, end));
  }

  /**
   * Finds the empty line that ends a head or trailer section starting at
   * `start`, resuming where the last call stopped. Returns the index after
   * it, or -1 when more bytes are needed. Every LF must follow a CR.
   */
  #findEnd(buf: Buffer, start: number, end: number): number {
    let lineStart = start + this.#scanned;
    for (;;) {
      const lf = buf.indexOf(LF, lineStart);
      if (lf === -1) {
        if (end - start > this.#maxBytes) throw this.#tooLarge();
        this.#scanned = lineStart - start;
        return -1;
      }
      if (lf === start || buf[lf - 1] !== CR) throw new Http1Error('http1.bare_lf', 'a line ends with LF alone');
      if (lf + 1 - start > this.#maxBytes) throw this.#tooLarge();
      if (lf - 1 === lineStart) {
        this.#scanned = 0;
        return lf + 1;
      }
      lineStart = lf + 1;
    }
  }

  #tooLarge(): Http1Error {
    const what = this.#state === TRAILERS ? 'trailer section' : 'head';
    return new Http1Error('http1.header_too_large', `${what} larger than ${this.#maxBytes} bytes`);
  }

  #parseHead(buf: Buffer, start: number, stop: number): void {
    this.headBytes = stop - start;
    this.raw = [];
    this.contentLength = -1;
    this.keepAliveTimeoutS = 0;
    const eol = buf.indexOf(LF, start) - 1;
    if (this.isRequest) this.#requestLine(buf, start, eol);
    else this.#statusLine(buf, start, eol);
    this.#parseFields(buf, eol + 2, stop - 2, this.raw, false);
  }

  #requestLine(buf: Buffer, start: number, eol: number): void {
    let p = start;
    while (p < eol && TCHAR[buf[p]!] === 1) p++;
    if (p === start || buf[p] !== SP) {
      if (p === eol) throw new Http1Error('http1.bad_request_line', 'request line has no request-target');
      throw new Http1Error('http1.bad_method', 'method is not a token');
    }
    this.method = methodString(buf, start, p);
    const ts = ++p;
    while (p < eol && buf[p]! > SP && buf[p]! < 0x7f) p++;
    if (p === ts) throw new Http1Error('http1.bad_target', 'request-target is empty');
    if (p === eol) throw new Http1Error('http1.bad_request_line', 'request line has no HTTP-version');
    if (buf[p] !== SP) throw new Http1Error('http1.bad_target', 'request-target has a byte outside visible ASCII');
    this.target = buf.toString('latin1', ts, p);
    this.versionMinor = parseVersion(buf, p + 1, eol);
  }

  #statusLine(buf: Buffer, start: number, eol: number): void {
    if (eol - start < 12) {
      throw new Http1Error('http1.bad_status_line', 'status line too short');
    }
    this.versionMinor = parseVersion(buf, start, start + 8);
    const d0 = buf[start + 9]! - 0x30;
    const d1 = buf[start + 10]! - 0x30;
    const d2 = buf[start + 11]! - 0x30;
    if (buf[start + 8] !== SP || d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      throw new Http1Error('http1.bad_status_line', 'status line is not HTTP-version SP 3DIGIT');
    }
    this.status = d0 * 100 + d1 * 10 + d2;
    // The reason phrase is optional (RFC 9112 §4); when present it follows one SP.
    if (eol > start + 12 && buf[start + 12] !== SP) throw new Http1Error('http1.bad_status_line', 'status code is not followed by SP');
    for (let p = start + 13; p < eol; p++) {
      if (FIELD_VALUE[buf[p]!] !== 1) throw new Http1Error('http1.bad_status_line', 'reason phrase has a control byte');
    }
  }

  /**
   * Parses field lines in [from, to) (each ending in CRLF) into `out` and,
   * for a head, applies the framing fields to this parser's state.
   */
  #parseFields(buf: Buffer, from: number, to: number, out: string[], trailers: boolean): void {
    let hosts = 0;
    let te = 0;
    let teLastChunked = false;
    let teChunked = 0;
    let clSeen = false;
    let connection = 0;
    let upgradeField = false;
    let expect = false;
    let count = 0;
    let ls = from;
    while (ls < to) {
      const lf = buf.indexOf(LF, ls);
      const le = lf - 1;
      if (++count > this.#maxCount) throw new Http1Error('http1.too_many_headers', `more than ${this.#maxCount} field lines`);
      if (isWhitespace(buf[ls]!)) throw new Http1Error('http1.obs_fold', 'a field line starts with whitespace (obs-fold)');
      let p = ls;
      while (p < le && TCHAR[buf[p]!] === 1) p++;
      const after = buf[p]!;
      if (p === ls || after !== COLON) {
        if (p > ls && isWhitespace(after)) throw new Http1Error('http1.space_before_colon', 'whitespace between a field name and its colon');
        throw new Http1Error('http1.bad_header_name', p === le ? 'field line has no colon' : 'field name is not a token');
      }
      const ne = p;
      let vs = p + 1;
      while (vs < le && isWhitespace(buf[vs]!)) vs++;
      let ve = le;
      while (ve > vs && isWhitespace(buf[ve - 1]!)) ve--;
      for (let i = vs; i < ve; i++) {
        const c = buf[i]!;
        if (FIELD_VALUE[c] !== 1) {
          if (c === CR) throw new Http1Error('http1.bare_cr', 'CR inside a field line');
          throw new Http1Error('http1.bad_header_value', 'field value has a control byte');
        }
      }
      out.push(fieldName(buf, ls, ne), buf.toString('latin1', vs, ve));
      if (!trailers) {
        switch (ne - ls) {
          case 4:
            if (nameIs(buf, ls, N_HOST)) hosts++;
            break;
          case 6:
            if (nameIs(buf, ls, N_EXPECT)) {
              if (!valueIs(buf, vs, ve, '100-continue')) throw new Http1Error('http1.unsupported_expectation', 'Expect other than 100-continue');
              expect = true;
            }
            break;
          case 7:
            if (nameIs(buf, ls, N_UPGRADE)) upgradeField = true;
            break;
          case 10:
            if (nameIs(buf, ls, N_CONNECTION)) connection |= connectionTokens(buf, vs, ve);
            else if (!this.isRequest && nameIs(buf, ls, N_KEEP_ALIVE)) this.keepAliveTimeoutS = keepAliveTimeout(buf, vs, ve);
            break;
          case 14:
            if (nameIs(buf, ls, N_CONTENT_LENGTH)) {
              if (clSeen) throw new Http1Error('http1.duplicate_content_length', 'more than one Content-Length field');
              clSeen = true;
              this.contentLength = parseContentLength(buf, vs, ve);
            }
            break;
          case 17:
            if (nameIs(buf, ls, N_TRANSFER_ENCODING)) {
              const r = codings(buf, vs, ve);
              // A chunked coding followed by more codings (in this field or the next) is not final.
              if (teLastChunked && r.count > 0) teLastChunked = false;
              te += r.count;
              teChunked += r.chunked;
              if (r.count > 0) teLastChunked = r.lastChunked;
            }
            break;
          default:
            break;
        }
      }
      ls = lf + 1;
    }
    if (trailers) return;
    this.expectContinue = expect && this.versionMinor === 1;
    this.upgrade = upgradeField && (connection & TOKEN_UPGRADE) !== 0;
    this.keepAlive = this.versionMinor === 1 ? (connection & TOKEN_CLOSE) === 0 : (connection & TOKEN_KEEP_ALIVE) !== 0 && (connection & TOKEN_CLOSE) === 0;
    if (this.isRequest && this.versionMinor === 1 && hosts !== 1) {
      throw new Http1Error('http1.bad_host', hosts === 0 ? 'HTTP/1.1 request without Host' : 'more than one Host field');
    }
    if (te > 0) {
      if (this.versionMinor === 0) throw new Http1Error('http1.transfer_encoding_http10', 'Transfer-Encoding in an HTTP/1.0 message');
      if (clSeen) throw new Http1Error('http1.content_length_with_transfer_encoding', 'both Content-Length and Transfer-Encoding');
      if (!teLastChunked || teChunked > 1) throw new Http1Error('http1.chunked_not_final', 'Transfer-Encoding does not end with exactly one chunked');
      if (te > 1) throw new Http1Error('http1.unsupported_transfer_encoding', 'a transfer coding other than chunked');
      this.framing = 'chunked';
    } else if (clSeen) {
      this.framing = this.contentLength > 0 ? 'length' : 'none';
    } else {
      this.framing = this.isRequest ? 'none' : 'close';
    }
  }

  /** Decides framing once the head is parsed; returns true when execute must return (message ended or protocol switched). */
  #afterHead(): boolean {
    if (!this.isRequest) {
      const st = this.status;
      if (st < 200 && st !== 101) {
        // Informational: not relayed (this hop answers Expect itself); the real response follows.
        return false;
      }
      if (st === 101) {
        this.framing = 'none';
        this.#state = UPGRADED;
        this.#sink.onHead();
        return true;
      }
      if (this.noBody || st === 204 || st === 304) this.framing = 'none';
      if (this.framing === 'close') this.keepAlive = false;
    }
    switch (this.framing) {
      case 'length':
        this.#remaining = this.contentLength;
        this.#state = LENGTH;
        break;
      case 'chunked':
        this.#state = CHUNK_LINE;
        break;
      case 'close':
        this.#state = CLOSE;
        break;
      default:
        this.#state = LENGTH;
        this.#remaining = 0;
    }
    this.#sink.onHead();
    const s = this.#state;
    if (s === UPGRADED || s === STOPPED) return true;
    if (this.framing === 'none' && s === LENGTH) {
      this.#messageEnd(null);
      return true;
    }
    return false;
  }

  #messageEnd(trailers: string[] | null): void {
    this.#state = HEAD;
    this.#sink.onMessageEnd(trailers);
  }
}

const TOKEN_CLOSE = 1;
const TOKEN_KEEP_ALIVE = 2;
const TOKEN_UPGRADE = 4;

/** ASCII case-insensitive match of the field name at `s` with a lowercase name of the same length. */
function nameIs(buf: Buffer, s: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) if ((buf[s + i]! | 0x20) !== name[i]) return false;
  return true;
}

/** ASCII case-insensitive equality of [s, e) with a lowercase string. */
function valueIs(buf: Buffer, s: number, e: number, v: string): boolean {
  if (e - s !== v.length) return false;
  for (let i = 0; i < v.length; i++) {
    let c = buf[s + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== v.charCodeAt(i)) return false;
  }
  return true;
}

/** The `close`, `keep-alive` and `upgrade` options of a Connection value, as bits. */
function connectionTokens(buf: Buffer, s: number, e: number): number {
  let bits = 0;
  let ts = s;
  for (let i = s; i <= e; i++) {
    if (i < e && buf[i] !== 0x2c) continue;
    let a = ts;
    let b = i;
    while (a < b && isWhitespace(buf[a]!)) a++;
    while (b > a && isWhitespace(buf[b - 1]!)) b--;
    if (valueIs(buf, a, b, 'close')) bits |= TOKEN_CLOSE;
    else if (valueIs(buf, a, b, 'keep-alive')) bits |= TOKEN_KEEP_ALIVE;
    else if (valueIs(buf, a, b, 'upgrade')) bits |= TOKEN_UPGRADE;
    ts = i + 1;
  }
  return bits;
}

/** The transfer codings of one Transfer-Encoding value: how many, how many are `chunked`, and whether the last one is. */
function codings(buf: Buffer, s: number, e: number): { count: number; chunked: number; lastChunked: boolean } {
  let count = 0;
  let chunked = 0;
  let last = false;
  let ts = s;
  for (let i = s; i <= e; i++) {
    if (i < e && buf[i] !== 0x2c) continue;
    let a = ts;
    let b = i;
    while (a < b && isWhitespace(buf[a]!)) a++;
    while (b > a && isWhitespace(buf[b - 1]!)) b--;
    ts = i + 1;
    // RFC 9110 §5.6.1: empty list elements are ignored.
    if (a === b) continue;
    count++;
    last = valueIs(buf, a, b, 'chunked');
    if (last) chunked++;
  }
  return { count, chunked, lastChunked: last };
}

/** Content-Length = 1*DIGIT, at most 2^53-1 (RFC 9110 §8.6); a list (`5, 5`) is a duplicate. */
function parseContentLength(buf: Buffer, s: number, e: number): number {
  if (s === e) throw new Http1Error('http1.bad_content_length', 'empty Content-Length');
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === 0x2c) throw new Http1Error('http1.duplicate_content_length', 'Content-Length is a list');
    if (!isDigit(c)) throw new Http1Error('http1.bad_content_length', 'Content-Length is not a decimal number');
    n = n * 10 + (c - 0x30);
  }
  if (n > Number.MAX_SAFE_INTEGER) throw new Http1Error('http1.bad_content_length', 'Content-Length too large');
  return n;
}

/** The `timeout=N` parameter of a Keep-Alive value, in seconds; 0 when absent or malformed. */
function keepAliveTimeout(buf: Buffer, s: number, e: number): number {
  const v = buf.toString('latin1', s, e).toLowerCase();
  const i = v.indexOf('timeout=');
  if (i === -1) return 0;
  const n = Number.parseInt(v.slice(i + 8), 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Throws `http1.bad_method` when the bytes of an unfinished request line cannot start a method. */
function checkMethodPrefix(buf: Buffer, start: number, end: number): void {
  let p = start;
  while (p < end && TCHAR[buf[p]!] === 1) p++;
  if (p < end && buf[p] !== SP && buf[p] !== CR) throw new Http1Error('http1.bad_method', 'method is not a token');
}

/** Parses `HTTP/DIGIT.DIGIT` at [p, eol) and returns the minor version (1 for any 1.x above 0). */
function parseVersion(buf: Buffer, p: number, eol: number): number {
  if (
    eol - p !== 8 ||
    buf[p] !== 0x48 ||
    buf[p + 1] !== 0x54 ||
    buf[p + 2] !== 0x54 ||
    buf[p + 3] !== 0x50 ||
    buf[p + 4] !== 0x2f ||
    buf[p + 6] !== 0x2e ||
    !isDigit(buf[p + 5]!) ||
    !isDigit(buf[p + 7]!)
  ) {
    throw new Http1Error('http1.bad_version', 'HTTP-version is not HTTP/DIGIT.DIGIT');
  }
  if (buf[p + 5] !== 0x31) throw new Http1Error('http1.unsupported_version', `HTTP/${String.fromCharCode(buf[p + 5]!)} is not supported`);
  return buf[p + 7] === 0x30 ? 0 : 1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function methodString(buf: Buffer, s: number, e: number): string {
  const n = e - s;
  for (let i = 0; i < METHOD_BYTES.length; i++) {
    const m = METHOD_BYTES[i]!;
    if (m.length !== n) continue;
    let j = 0;
    while (j < n && buf[s + j] === m[j]) j++;
    if (j === n) return METHODS[i]!;
  }
  return buf.toString('latin1', s, e);
}

/** Parses a chunk-size line [ls, lf) (lf is its LF) and returns the size (RFC 9112 §7.1, §7.1.1). */
function parseChunkLine(buf: Buffer, ls: number, lf: number): number {
  if (lf === ls || buf[lf - 1] !== CR) throw new Http1Error('http1.bare_lf', 'chunk-size line ends with LF alone');
  const le = lf - 1;
  let p = ls;
  let size = 0;
  while (p < le) {
    const v = hexValue(buf[p]!);
    if (v < 0) break;
    size = size * 16 + v;
    p++;
  }
  if (p === ls) throw new Http1Error('http1.bad_chunk_size', 'chunk-size is not a hex number');
  if (p - ls > MAX_CHUNK_HEX_DIGITS) throw new Http1Error('http1.bad_chunk_size', `chunk-size has more than ${MAX_CHUNK_HEX_DIGITS} hex digits`);
  if (p < le) checkChunkExtensions(buf, p, le);
  return size;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) over [p, le). */
function checkChunkExtensions(buf: Buffer, p: number, le: number): void {
  const bad = (why: string): Http1Error => new Http1Error('http1.bad_chunk_extension', why);
  while (p < le) {
    while (p < le && isWhitespace(buf[p]!)) p++;
    if (buf[p] !== 0x3b || p === le) throw bad(buf[p] === CR ? 'bare CR in a chunk-size line' : 'chunk-size is followed by something other than ";"');
    p++;
    while (p < le && isWhitespace(buf[p]!)) p++;
    const ns = p;
    while (p < le && TCHAR[buf[p]!] === 1) p++;
    if (p === ns) throw bad('chunk extension without a name');
    let q = p;
    while (q < le && isWhitespace(buf[q]!)) q++;
    if (q < le && buf[q] === 0x3d) {
      p = q + 1;
      while (p < le && isWhitespace(buf[p]!)) p++;
      if (buf[p] === 0x22) {
        p++;
        for (;;) {
          if (p >= le) throw bad('unterminated quoted-string in a chunk extension');
          const c = buf[p]!;
          if (c === 0x22) break;
          if (c === 0x5c) {
            const n = buf[p + 1];
            if (p + 1 >= le || n === undefined || FIELD_VALUE[n] !== 1) throw bad('bad quoted-pair in a chunk extension');
            p += 2;
            continue;
          }
          if (QDTEXT[c] !== 1) throw bad('control byte in a chunk extension');
          p++;
        }
        p++;
      } else {
        const vs = p;
        while (p < le && TCHAR[buf[p]!] === 1) p++;
        if (p === vs) throw bad('chunk extension "=" without a value');
      }
    }
  }
}
