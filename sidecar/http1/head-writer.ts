import { nodeHttp } from '../core/index.ts';
import { isFieldValue, isToken } from './field-chars.ts';
import { Http1Error } from './http1-error.ts';

/**
 * Appends `headers` (name, value, ...) as field lines to `head`, refusing a
 * name that is not a token or a value with CR, LF or another control byte:
 * a proxy must never let a field it forwards split into two (response
 * splitting, RFC 9112 §5, RFC 9110 §5.5).
 */
function appendFields(head: string, headers: readonly string[]): string {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!isToken(name)) throw new Http1Error('http1.invalid_outgoing_field', 'field name to send is not a token');
    if (!isFieldValue(value)) throw new Http1Error('http1.invalid_outgoing_field', `value of ${name} to send has a control byte`);
    head += name + ': ' + value + '\r\n';
  }
  return head;
}

/**
 * Serializes a request head as one latin1 string (one write on the socket):
 * the request line, `headers`, then `extra` (framing lines the caller built,
 * each ending in CRLF), then the empty line.
 */
export function serializeRequestHead(method: string, target: string, headers: readonly string[], extra: string): string {
  return appendFields(method + ' ' + target + ' HTTP/1.1\r\n', headers) + extra + '\r\n';
}

/** Serializes a response head like {@link serializeRequestHead}: status line, `headers`, `extra`, empty line. */
export function serializeResponseHead(status: number, headers: readonly string[], extra: string): string {
  return appendFields('HTTP/1.1 ' + status + ' ' + (nodeHttp.STATUS_CODES[status] ?? 'Unknown') + '\r\n', headers) + extra + '\r\n';
}

/** The field lines of a trailer section, validated like a head's, plus the empty line that ends a chunked body. */
export function serializeTrailers(trailers: readonly string[] | null): string {
  return trailers === null ? '\r\n' : appendFields('', trailers) + '\r\n';
}
