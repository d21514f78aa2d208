/**
 * Common field names as shared strings: a field line whose name matches one
 * of these spellings byte for byte gets the string below instead of a new
 * one, so a typical head allocates strings for its values only. Names stay
 * exactly as received (the proxy forwards them as they came), so each name
 * is listed in the spellings peers send: Title-Case (nginx, curl, Go's
 * net/http, wrk) and lower case (HTTP/2 origins, Envoy).
 */
const COMMON = [
  'Host',
  'User-Agent',
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Accept-Ranges',
  'Authorization',
  'Cache-Control',
  'Connection',
  'Content-Encoding',
  'Content-Length',
  'Content-Type',
  'Cookie',
  'Date',
  'ETag',
  'Etag',
  'Expires',
  'Keep-Alive',
  'Last-Modified',
  'Location',
  'Server',
  'Set-Cookie',
  'Traceparent',
  'Transfer-Encoding',
  'Vary',
  'X-Forwarded-For',
  'X-Request-Id',
];

interface Spelling {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** Spellings by length, so a name is compared only with those of its length. */
const BY_LENGTH: Spelling[][] = [];
for (const name of new Set(COMMON.flatMap((n) => [n, n.toLowerCase()]))) {
  (BY_LENGTH[name.length] ??= []).push({ bytes: Buffer.from(name, 'latin1'), name });
}

/** The field name in `buf[start, end)` as a string, shared when it is a common spelling. */
export function fieldName(buf: Buffer, start: number, end: number): string {
  const candidates = BY_LENGTH[end - start];
  if (candidates !== undefined) {
    for (let c = 0; c < candidates.length; c++) {
      const s = candidates[c]!;
      const b = s.bytes;
      let i = 0;
      while (i < b.length && buf[start + i] === b[i]) i++;
      if (i === b.length) return s.name;
    }
  }
  return buf.toString('latin1', start, end);
}
