import type { Readable } from 'node:stream';
import type { RequestHeadSink, ResponseHeadSink } from './hop-by-hop.ts';
import type { ConnInfo, ConnLoad, RequestRecord } from './request-record.ts';

const NO_HEADERS: readonly string[] = Object.freeze([]);

/**
 * The fields of one request, apart from what it does: the request record
 * (request-record.ts) and the state the head scanners (hop-by-hop.ts), the
 * upload watch (upload-watch.ts) and the downstream ports share. Exchange
 * extends it with the behaviour, so a request is still one object
 * (docs/decisions/016).
 */
export abstract class ExchangeRecord implements RequestRecord, RequestHeadSink, ResponseHeadSink {
  readonly conn: ConnInfo;
  readonly load: ConnLoad;
  readonly method: string;
  readonly path: string;
  target: string;

  // Filled by scanRequestHead.
  headers: string[] = [];
  authority = '';
  hasHostHeader = false;
  hasBody = false;
  upgrade = '';
  headerBytes = 0;
  /** The request body when there is one. */
  body: Readable | null = null;
  /**
   * The request's trailer fields that may go upstream (request-trailers.ts),
   * null when it had none. The downstream fills it; it is known by the time
   * the body's 'end' is emitted (node:http2 emits 'trailers' first).
   */
  requestTrailers: string[] | null = null;

  // Filled by scanResponseHead.
  responseHeaders: string[] = [];
  responseChunked = false;
  /**
   * The HTTP/2 upstream ended the stream with its response HEADERS (a
   * gRPC "Trailers-Only" response: grpc-status in the only header block).
   * An HTTP/2 downstream must get the same single frame; headers followed
   * by an empty DATA frame would turn the status into initial metadata.
   */
  responseHeadEndsStream = false;

  status = 0;
  serverId = '';
  dst = '';
  decision = '';
  reason = '';
  rule = '';
  subject = '';
  clientId = '';
  traceId = '';
  traceSpan: object | null = null;
  dryRun: readonly { readonly rule: string; readonly outcome: 'would_allow' | 'would_deny' }[] | undefined = undefined;

  /** Request body bytes received (counted as the upstream reads the body). */
  bodyBytes = 0;
  responseBytes = 0;
  /**
   * Extra response headers (name, value, ...) of the local answer being
   * sent, e.g. `www-authenticate` on a 401 (RFC 6750 §3); empty otherwise.
   */
  localHeaders: readonly string[] = NO_HEADERS;
  /** Set before a local answer that must also end the downstream connection (HTTP/1.1) or stream (HTTP/2). */
  closeAfterLocal = false;
  // UploadWatch's state (see WatchedUpload).
  watchStartedAt = 0;
  watchBase = 0;
  watchSeen = 0;
  watchIdleSince = 0;
  watchMinRate = false;

  constructor(conn: ConnInfo, load: ConnLoad, method: string, path: string) {
    this.conn = conn;
    this.load = load;
    this.method = method;
    this.path = path;
    this.target = path;
  }
}
