/**
 * What an app probe entry of SPIFFE_SIDECAR_APP_PROBES may hold, stated
 * once: the injector (injector/probe-rewrite.ts) writes only entries that
 * pass these rules and the config (config/app-probes-section.ts) refuses
 * any other, so the two cannot drift apart and a pod the injector rewrote
 * always starts.
 */

/** Longest request-target of a probe. */
export const MAX_PROBE_TARGET_LENGTH = 2048;

/**
 * RFC 3986 §3.3 path-absolute plus an optional §3.4 query: the characters a
 * client (the kubelet among them) sends unescaped, so the path the kubelet
 * requests is byte for byte the one the sidecar serves.
 */
const PROBE_TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?$/;
/** A '%' that does not start a percent-encoding (RFC 3986 §2.1). */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** True when `target` is a path with an optional query in the characters above (its length is checked apart). */
export function isProbeTargetSyntax(target: string): boolean {
  return PROBE_TARGET.test(target) && !BAD_PERCENT.test(target);
}

/** The part of a target that identifies a probe: the path without its query (probes are served by path). */
export function probeTargetPath(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** RFC 9110 §5.1 field-name (token). */
export const HEADER_NAME_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 §5.5 field-value characters as node:http accepts them: no CR, LF or NUL. */
export const HEADER_FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers about the connection rather than the request: the
 * connection-specific fields of RFC 9110 §7.6.1 and RFC 9113 §8.2.2 (with
 * the HTTP/1.0 Keep-Alive and Proxy-Connection) and Trailer. The sidecar
 * sets these itself; no configuration may name them.
 */
export const CONNECTION_HEADERS: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/**
 * Headers a probe's configuration may not carry: the connection headers
 * and the message framing the sidecar sets for a body-less GET (RFC 9110
 * §8.6 Content-Length, §10.1.1 Expect); a configured copy would break the
 * request.
 */
export const PROBE_FRAMING_HEADERS: ReadonlySet<string> = new Set([...CONNECTION_HEADERS, 'content-length', 'expect']);
