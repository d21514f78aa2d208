/**
 * forward: the proxy engine shared by inbound and outbound: the internal
 * HTTP/1.1 and HTTP/2 servers a listener hands verified sockets to, the
 * per-request Exchange that streams a request to an upstream and the answer
 * back, upstream connection management (keep-alive pool of raw HTTP/1.1
 * connections framed by sidecar/http1, one HTTP/2
 * session per upstream, plain or SPIFFE mTLS dialers), hop-by-hop header
 * rules, the local-answer map shared by both directions (forward-answer.ts:
 * protocol refusals, limits, upstream failures), drain, and raw TCP joining. It bounds
 * upstream work (per connection and per caller, request bodies that stall
 * or crawl) and never lets a truncated request look complete upstream.
 *
 * The per-request object model (request record, downstream port per
 * protocol, upstream adapters) is docs/decisions/016-forward-object-model.md.
 *
 * It must not decide who may call whom: policy evaluation, routing tables
 * and identity headers are the callers' (inbound/outbound), and it never
 * opens a listening socket itself.
 */
export { HttpFront } from './http-front.ts';
export type { HttpFrontOptions, H2SessionState } from './http-front.ts';
export { Exchange, LOCAL_APP_CONN } from './exchange.ts';
export type { ConnInfo, ConnLoad, ExchangeUpstream } from './exchange.ts';
export type { RequestRecord } from './request-record.ts';
export type { ExchangeTracer, TracedExchange } from './exchange-tracer.ts';
export { H1Exchange } from './h1-exchange.ts';
export { H2Exchange } from './h2-exchange.ts';
export { UpgradeExchange } from './upgrade-exchange.ts';
export { H1Pool } from './h1-pool.ts';
export type { H1PoolOptions, H1PoolRequest } from './h1-pool.ts';
export { H1Connection } from './h1-connection.ts';
export type { H1UpstreamRequest, H1ConnectionOwner, H1ConnectionSettings } from './h1-connection.ts';
export { H2Upstream } from './h2-upstream.ts';
export type { H2UpstreamOptions } from './h2-upstream.ts';
export type { UpstreamPool } from './upstream.ts';
export { TcpDialer, MtlsDialer } from './dialer.ts';
export type { Dialer, DialCallback, MtlsDialerOptions } from './dialer.ts';
export { ForwardError } from './forward-error.ts';
export type { ForwardErrorCode } from './forward-error.ts';
export { errorResponse, OVERFLOW_RETRY_AFTER_SECONDS } from './error-response.ts';
export type { ErrorResponse } from './error-response.ts';
export { FORWARD_ANSWERS, FORWARD_ANSWER_REASONS } from './forward-answer.ts';
export type { AnswerLevel, AnswerRow, ForwardAnswer, ForwardAnswerReason } from './forward-answer.ts';
export { scanRequestHead, scanResponseHead, trailersToForward, hasToken, lowerEquals, acceptsUpgrade, isWebSocketUpgrade } from './hop-by-hop.ts';
export type { RequestHeadSink, ResponseHeadSink } from './hop-by-hop.ts';
export { sniffProtocol } from './protocol-sniffer.ts';
export { joinStreams } from './join-streams.ts';
export { TunnelSet } from './tunnel-set.ts';
export { joinTunnel } from './tunnel-join.ts';
export type { TunnelJoinContext } from './tunnel-join.ts';
export { tunnelListener } from './tunnel-listener.ts';
export { closeHttpListener, drainHttpListener, listenOn, stopListening } from './proxy-listener.ts';
export type { HttpListenerParts, ListenerUpstreams, ProxyListener, ProxyListenerOptions } from './proxy-listener.ts';
export { HeaderNameSet, DEFAULT_STRIPPED_REQUEST_HEADERS } from './header-name-set.ts';
export { UploadWatch } from './upload-watch.ts';
export type { WatchedUpload } from './upload-watch.ts';
export { localBody } from './local-body.ts';
export type { RequestAuditSink } from './http-front.ts';
