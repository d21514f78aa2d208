/**
 * transparent: what the kernel knows about an intercepted connection. Reads
 * the original destination of a connection that iptables REDIRECTed to one
 * of our listeners, through a small Node-API addon built from
 * native/original-dst (docs/decisions/011-original-destination.md), and
 * tells what an intercepted stream carries by its first bytes (HTTP, TLS,
 * opaque), with the opaque-TCP signal both directions share
 * (docs/decisions/014-outbound-classification.md).
 *
 * Must not make routing or authorization decisions (the proxies do), load
 * the addon before transparent mode asks for it, or depend on anything but
 * `core`.
 */
export { originalDestination, loadOriginalDestination, ORIGINAL_DESTINATION_ADDON, ORIGINAL_DESTINATION_BUILD_COMMAND } from './original-destination.ts';
export type { OriginalDestination } from './original-destination.ts';
export { OriginalDestinationError } from './original-destination-error.ts';
export type { OriginalDestinationErrorCode } from './original-destination-error.ts';
export { classifyFirstBytes, startsLikeH2Preface, OPAQUE_TCP_ALPN, DEFAULT_OPAQUE_PORTS } from './first-bytes.ts';
export type { FirstBytesClass } from './first-bytes.ts';
export { readFirstBytes } from './first-bytes-reader.ts';
export type { FirstBytesEnd, FirstBytesLimits } from './first-bytes-reader.ts';
