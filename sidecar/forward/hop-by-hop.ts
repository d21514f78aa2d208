/**
 * Hop-by-hop header handling (RFC 9110 §7.6.1) on raw header arrays
 * (alternating name, value, as `req.rawHeaders` and HTTP/2 raw headers),
 * done in one pass per message with no per-header allocation on the common
 * path. Names keep the case they arrived in.
 *
 * Removed when forwarding: Connection and every header it names,
 * Keep-Alive, TE (except the `trailers` token, which gRPC needs and HTTP/2
 * allows), Transfer-Encoding (each hop frames the body itself), Upgrade
 * (carried separately, and only on a WebSocket upgrade), HTTP2-Settings
 * (RFC 9113 §3.2.1 defines it as connection-specific), every Proxy-*
 * header (meant for a proxy, and this is not one the app chose), HTTP/2
 * pseudo-headers (rebuilt for the next hop), and Expect on requests (this
 * hop already answered `100 Continue`).
 *
 * Upgrades are an allow-list of one: WebSocket (RFC 6455 §4.1). Any other
 * protocol, `h2c` above all (RFC 7540 §3.2), is dropped with its headers and
 * the request forwarded as plain HTTP/1.1, as a server that ignores Upgrade
 * answers (RFC 9110 §7.8). Forwarding an h2c upgrade would let the caller
 * speak HTTP/2 straight to the app after the 101, past policy and identity
 * headers, for the life of the connection (docs/security.md).
 */
import { someListElement } from '../headers/index.ts';

/** What a request scan reports besides the headers to forward. */
export interface RequestHeadSink {
  /** End-to-end headers, original names and order; Host stays where it was. */
  headers: string[];
  /** Host (HTTP/1.1) or :authority (HTTP/2, preferred over a Host header); '' when absent. */
  authority: string;
  /** True when `headers` carries a Host header. */
  hasHostHeader: boolean;
  /** HTTP/1.1: Content-Length above zero or Transfer-Encoding present. */
  hasBody: boolean;
  /**
   * `websocket` when the request asks for a WebSocket upgrade (Connection
   * lists `upgrade` and Upgrade is that one protocol); '' otherwise, which
   * makes every other upgrade a plain request.
   */
  upgrade: string;
  /** Size of the head as HTTP/2 counts it (RFC 9113 §6.5.2: name + value + 32 per field). */
  headerBytes: number;
}

/** What a response scan reports besides the headers to forward. */
export interface ResponseHeadSink {
  /** End-to-end response headers (for a 101, Upgrade and `Connection: upgrade` too). */
  responseHeaders: string[];
  /** True when the response is chunked, the only HTTP/1.1 framing that can carry trailers. */
  responseChunked: boolean;
}

const OTHER = 0;
const PSEUDO = 1;
const HOST = 2;
const CONTENT_LENGTH = 3;
const TRANSFER_ENCODING = 4;
const TE = 5;
const CONNECTION = 6;
const UPGRADE = 7;
const DROP = 8;

/** ASCII case-insensitive equality with a lowercase `target`, without allocating. */
export function lowerEquals(name: string, target: string): boolean {
  if (name.length !== target.length) return false;
  for (let i = 0; i < target.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== target.charCodeAt(i)) return false;
  }
  return true;
}

function startsWithProxy(name: string): boolean {
  return name.length > 6 && lowerEquals(name.slice(0, 6), 'proxy-');
}

/** Classifies a header name; the length switch rejects most names after one comparison. */
function kindOf(name: string): number {
  if (name.charCodeAt(0) === 0x3a) return PSEUDO;
  switch (name.length) {
    case 2:
      return lowerEquals(name, 'te') ? TE : OTHER;
    case 4:
      return lowerEquals(name, 'host') ? HOST : OTHER;
    case 6:
      // Expect: 100-continue was answered by this hop (h1-exchange.ts does it), so
      // the next hop must not wait for a second go-ahead.
      return lowerEquals(name, 'expect') ? DROP : OTHER;
    case 7:
      return lowerEquals(name, 'upgrade') ? UPGRADE : OTHER;
    case 10:
      if (lowerEquals(name, 'connection')) return CONNECTION;
      return lowerEquals(name, 'keep-alive') ? DROP : OTHER;
    case 14:
      if (lowerEquals(name, 'content-length')) return CONTENT_LENGTH;
      return lowerEquals(name, 'http2-settings') ? DROP : OTHER;
    case 17:
      return lowerEquals(name, 'transfer-encoding') ? TRANSFER_ENCODING : OTHER;
    default:
      return startsWithProxy(name) ? DROP : OTHER;
  }
}

/** True when the comma-separated list `value` holds `token` (lowercase), ignoring case and spaces. */
export function hasToken(value: string, token: string): boolean {
  return someListElement(value, token, isToken);
}

function isToken(token: string, value: string, s: number, e: number): boolean {
  return e - s === token.length && lowerEquals(value.slice(s, e), token);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Connection tokens that name no end-to-end header of their own. */
const CONNECTION_OPTIONS = new Set(['close', 'keep-alive', 'upgrade', 'te', 'http2-settings']);

/** True when every token of a Connection value is a connection option (names no header). */
function onlyConnectionOptions(value: string): boolean {
  return !someListElement(value, undefined, namesAHeader);
}

/** A non-empty Connection token other than the connection options close, upgrade, keep-alive and te. */
function namesAHeader(_: undefined, value: string, s: number, e: number): boolean {
  const n = e - s;
  if (n === 0) return false;
  const t = n === 5 || n === 7 || n === 10 || n === 2 ? value.slice(s, e) : '';
  return !(lowerEquals(t, 'close') || lowerEquals(t, 'upgrade') || lowerEquals(t, 'keep-alive') || lowerEquals(t, 'te'));
}

/**
 * Removes from `headers` every header named in `connection` (RFC 9110
 * §7.6.1: the sender declared them hop-by-hop). Rare, so allocation is fine.
 */
function removeNamedByConnection(headers: string[], connection: string): string[] {
  // Common case first, without allocating: `keep-alive`, `close`, `upgrade`.
  if (onlyConnectionOptions(connection)) return headers;
  const named = new Set<string>();
  for (const t of connection.split(',')) {
    const token = t.trim().toLowerCase();
    if (token !== '' && !CONNECTION_OPTIONS.has(token)) named.add(token);
  }
  if (named.size === 0) return headers;
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (!named.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

/** Header names a request scan drops on top of the hop-by-hop ones (see HeaderNameSet). */
export interface DroppedHeaders {
  has(name: string): boolean;
}

/**
 * Scans a request head (`req.rawHeaders`, or the raw headers of an HTTP/2
 * stream) into `sink`: the end-to-end headers to forward plus authority,
 * body and upgrade facts. Headers named in `drop` are not forwarded.
 */
export function scanRequestHead(raw: readonly string[], sink: RequestHeadSink, drop: DroppedHeaders | null = null): void {
  let out: string[] = [];
  let connection: string | undefined;
  let upgrade = '';
  let te = false;
  let hasBody = false;
  let authority = '';
  let pseudoAuthority = '';
  let hasHost = false;
  let bytes = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    bytes += name.length + value.length + 32;
    switch (kindOf(name)) {
      case OTHER:
        if (drop === null || !drop.has(name)) out.push(name, value);
        break;
      case PSEUDO:
        if (name === ':authority') pseudoAuthority = value;
        break;
      case HOST:
        if (!hasHost) authority = value;
        hasHost = true;
        out.push(name, value);
        break;
      case CONTENT_LENGTH:
        if (value !== '0') hasBody = true;
        out.push(name, value);
        break;
      case TRANSFER_ENCODING:
        hasBody = true;
        break;
      case TE:
        if (hasToken(value, 'trailers')) te = true;
        break;
      case CONNECTION:
        connection = connection === undefined ? value : `${connection}, ${value}`;
        break;
      case UPGRADE:
        upgrade = value;
        break;
      default:
        break;
    }
  }
  if (te) out.push('te', 'trailers');
  if (connection !== undefined) out = removeNamedByConnection(out, connection);
  sink.headers = out;
  sink.authority = pseudoAuthority !== '' ? pseudoAuthority : authority;
  sink.hasHostHeader = hasHost;
  sink.hasBody = hasBody;
  sink.upgrade = connection !== undefined && hasToken(connection, 'upgrade') && isWebSocketUpgrade(upgrade) ? WEBSOCKET : '';
  sink.headerBytes = bytes;
}

const WEBSOCKET = 'websocket';

/**
 * True when an Upgrade value asks for WebSocket and nothing else. A list
 * (`websocket, h2c`) is refused: the server would pick, and the proxy
 * could not tell which protocol the 101 switched to.
 */
export function isWebSocketUpgrade(value: string | undefined): boolean {
  if (value === undefined) return false;
  let s = 0;
  let e = value.length;
  while (s < e && isSpace(value.charCodeAt(s))) s++;
  while (e > s && isSpace(value.charCodeAt(e - 1))) e--;
  return e - s === WEBSOCKET.length && lowerEquals(value.slice(s, e), WEBSOCKET);
}

/**
 * True for a request whose Connection lists `upgrade` and whose Upgrade is
 * WebSocket alone: only WebSocket upgrades leave the request path (the rule
 * h1-downstream.ts applies). Every other Upgrade request is parsed as a
 * normal request, body included, and forwarded without its upgrade headers.
 */
export function acceptsUpgrade(req: { readonly headers: { readonly upgrade?: string | undefined; readonly connection?: string | undefined } }): boolean {
  const c = req.headers.connection;
  return c !== undefined && hasToken(c, 'upgrade') && isWebSocketUpgrade(req.headers.upgrade);
}

function str(v: string | Buffer): string {
  return typeof v === 'string' ? v : v.toString('latin1');
}

/**
 * Scans a response head (raw strings from sidecar/http1 or HTTP/2; Buffers are read as latin1) into
 * `sink`. With `upgraded` (a 101 to an upgrade request) Upgrade is kept and
 * `Connection: upgrade` added, as the client needs both to switch.
 */
export function scanResponseHead(raw: readonly (string | Buffer)[], upgraded: boolean, sink: ResponseHeadSink): void {
  let out: string[] = [];
  let connection: string | undefined;
  let chunked = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = str(raw[i]!);
    const value = str(raw[i + 1]!);
    switch (kindOf(name)) {
      case OTHER:
      case HOST:
      case CONTENT_LENGTH:
        out.push(name, value);
        break;
      case TRANSFER_ENCODING:
        if (hasToken(value, 'chunked')) chunked = true;
        break;
      case CONNECTION:
        connection = connection === undefined ? value : `${connection}, ${value}`;
        break;
      case UPGRADE:
        if (upgraded) out.push(name, value);
        break;
      default:
        break;
    }
  }
  if (connection !== undefined) out = removeNamedByConnection(out, connection);
  if (upgraded) out.push('connection', 'upgrade');
  sink.responseHeaders = out;
  sink.responseChunked = chunked;
}

/** Trailers to forward: raw (Buffers or strings) to strings, pseudo and hop-by-hop fields dropped. */
export function trailersToForward(raw: readonly (string | Buffer)[] | null | undefined): string[] | null {
  if (!raw || raw.length === 0) return null;
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = str(raw[i]!);
    if (kindOf(name) === OTHER) out.push(name, str(raw[i + 1]!));
  }
  return out.length === 0 ? null : out;
}
