/**
 * http1: HTTP/1.1 on raw sockets (RFC 9112): a strict incremental message
 * parser over Buffers (heads, Content-Length and chunked bodies, trailers),
 * head serializers that write one string per head, and the chunked body
 * encoder. It knows framing and syntax only.
 *
 * It must not open sockets, keep connections or decide what to forward:
 * pools, downstream connections and hop-by-hop rules are sidecar/forward's.
 * It depends on core and node:* only.
 */
export { MessageParser, DEFAULT_MAX_HEADER_COUNT } from './message-parser.ts';
export type { MessageSink, ParserLimits, BodyFraming } from './message-parser.ts';
export { Http1Error } from './http1-error.ts';
export type { Http1ErrorCode } from './http1-error.ts';
export { serializeRequestHead, serializeResponseHead, serializeTrailers } from './head-writer.ts';
export { writeChunk, lastChunk } from './chunked-writer.ts';
export { isToken, isFieldValue } from './field-chars.ts';
