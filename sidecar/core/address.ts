import { isIPv4, isIPv6 } from 'node:net';

/**
 * A TCP endpoint: `host` is a lowercase DNS name or an IP literal (IPv6
 * without brackets), `port` a number. Listen addresses, app and peer
 * addresses, dial targets: every module names an endpoint with this type.
 */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * A host with an optional port, as in a Host header, an :authority or a
 * route's `host` (RFC 3986 §3.2.2-3.2.3); `port` is null when absent.
 */
export interface Authority {
  readonly host: string;
  readonly port: number | null;
}

/** What {@link parseHostPort} accepts; every rule not named here is the same for all callers. */
export interface HostPortRules {
  /** `required`: the text must end in `:port`. `optional`: a host alone is accepted, with port null. */
  readonly port: 'required' | 'optional';
  /** Accepts port 0 (bind any free port). Without it a port is 1-65535. */
  readonly portZero?: boolean | undefined;
  /**
   * `exact` (configuration): the host must be a DNS name (letters, digits,
   * dashes and dots, at most 253 characters) or an IP address in its usual
   * spelling; another spelling of an IPv4 address is refused naming the
   * address it stands for, so a config holds one spelling only.
   * `canonical` (a Host / :authority received from a client): an IP
   * address in any spelling comes back canonical ({@link canonicalHost}), so
   * every check after the parse sees 127.0.0.1 where the client wrote
   * 0x7f000001; other names are not checked (they simply match no route).
   */
  readonly hosts: 'exact' | 'canonical';
}

/** The outcome of {@link parseHostPort}: the host and port, or why the text is not one. */
export type HostPortResult =
  | { readonly ok: true; readonly host: string; readonly port: number | null }
  | { readonly ok: false; readonly problem: string };

/** Text split at the port separator; the port is the raw text after `:`, undefined without one. */
export type HostPortSplit = { readonly host: string; readonly port: string | undefined } | { readonly problem: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NAME_PROBLEM = 'host must be an IP address or a DNS name (letters, digits, dashes and dots)';

/** `host:port`, bracketing an IPv6 literal (`[::1]:15006`, RFC 3986 §3.2.2), for messages, logs and URLs. */
export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** `host` or `host:port`, bracketing an IPv6 literal (`[fd00::5]`, `[fd00::5]:8080`): a route's name in messages and logs. */
export function formatAuthority(a: Authority): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return a.port === null ? host : `${host}:${a.port}`;
}

/**
 * Splits `host:port`, `[v6]:port`, `host` or `[v6]` at the port separator.
 * The one set of bracket rules: brackets hold an IPv6 address and nothing
 * else (RFC 3986 §3.2.2), without a zone ID (RFC 6874's `%25eth0` names an
 * interface of one machine, which means nothing to a peer or in a config);
 * an IPv6 address outside brackets is refused because `::1:8080` has no
 * single reading. The text is taken as given (no trimming or lowercasing);
 * problems never repeat it, so a caller may quote it once in front.
 */
export function splitHostPort(text: string): HostPortSplit {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return { problem: 'missing "]" after the IPv6 address' };
    const host = text.slice(1, close);
    if (host.includes('%')) return { problem: 'the IPv6 address has a zone ID ("%..."), which names an interface of one machine only; write it without one' };
    if (!isIPv6(host)) return { problem: 'the text in brackets is not an IPv6 address' };
    if (close === text.length - 1) return { host, port: undefined };
    if (text.charCodeAt(close + 1) !== 0x3a) return { problem: 'expected ":port" after "]"' };
    return { host, port: text.slice(close + 2) };
  }
  const first = text.indexOf(':');
  if (first === -1) return { host: text, port: undefined };
  if (text.indexOf(':', first + 1) !== -1) return { problem: 'IPv6 addresses must be in brackets, e.g. [::1]:15006' };
  return { host: text.slice(0, first), port: text.slice(first + 1) };
}

/** Parses a decimal port of at most five digits: 1-65535, or 0-65535 with `zero`; undefined otherwise. */
export function parsePort(text: string, zero = false): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 && (port >= 1 || zero) ? port : undefined;
}

/**
 * Parses `host:port`, `[v6]:port` and, when the port is optional, `host`
 * or `[v6]`. Surrounding space is dropped and the host lowercased (host
 * names compare case-insensitively, RFC 9110 §4.2.3). The problems are
 * phrased for a message that quotes the text first.
 */
export function parseHostPort(text: string, rules: HostPortRules): HostPortResult {
  const split = splitHostPort(text.trim().toLowerCase());
  if ('problem' in split) return { ok: false, problem: split.problem };
  if (split.port === undefined && rules.port === 'required') return { ok: false, problem: 'missing ":port"' };
  let host = split.host;
  if (rules.hosts === 'exact') {
    const problem = exactHostProblem(host);
    if (problem !== undefined) return { ok: false, problem };
  } else {
    if (host === '') return { ok: false, problem: 'host is missing' };
    const canonical = canonicalHost(host);
    if (canonical === undefined) return { ok: false, problem: 'the host is not a valid IPv4 address (a host name cannot end in a number)' };
    host = canonical;
  }
  if (split.port === undefined) return { ok: true, host, port: null };
  const port = parsePort(split.port, rules.portZero === true);
  if (port === undefined) return { ok: false, problem: rules.portZero === true ? 'port must be 0-65535' : 'port must be 1-65535' };
  return { ok: true, host, port };
}

/**
 * True for a DNS name in preferred syntax: dot-separated labels of letters,
 * digits and inner dashes, 1-63 characters each, at most 253 in all
 * (RFC 1035 §2.3.1, RFC 1123 §2.1). Lowercase, without a trailing dot.
 */
export function isDnsName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

/** Why `host` is no DNS name or IP address in its usual spelling; undefined when it is one. */
function exactHostProblem(host: string): string | undefined {
  if (host === '') return 'host is missing (use 0.0.0.0 for all interfaces)';
  if (isIPv4(host) || isIPv6(host)) return undefined;
  if (host.length > 253) return 'host name is longer than 253 characters';
  // A trailing dot (an empty last label) is judged by the number rule first.
  if (!host.split('.').every((l) => l === '' || LABEL.test(l))) return NAME_PROBLEM;
  if (endsInNumber(host)) {
    const reading = canonicalHost(host);
    return reading === undefined
      ? `${host} is not a valid IPv4 address (a host name cannot end in a number)`
      : `${host} is read as the IPv4 address ${reading} by URL parsers and resolvers; write ${reading}`;
  }
  return isDnsName(host) ? undefined : NAME_PROBLEM;
}

/** The last label (a trailing dot ignored) is a number: all digits, or `0x` and hex digits. */
function endsInNumber(host: string): boolean {
  let end = host.length;
  if (end > 1 && host.charCodeAt(end - 1) === 0x2e) end--;
  const start = host.lastIndexOf('.', end - 1) + 1;
  if (start >= end) return false;
  const last = host.slice(start, end);
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last);
}

/**
 * The host as every URL parser and resolver reads it: a host the WHATWG
 * URL Standard (§3.5 host parsing, "ends in a number" and the IPv4 parser)
 * takes as an IPv4 address becomes its dotted quad (`2130706433`,
 * `0x7f000001`, `127.1`, `0177.0.0.1` → 127.0.0.1; `10.5` → 10.0.0.5), an
 * IPv6 address its RFC 5952 form (`0:0:0:0:0:ffff:127.0.0.1` →
 * `::ffff:7f00:1`); any other host is returned as it is. undefined when the
 * host ends in a number but is no valid address (`1.2.3.4.5`, `09.1`): no
 * name can end in a number, and resolvers disagree on what such hosts mean.
 *
 * Why: getaddrinfo and inet_aton accept these spellings too, so a check
 * that only knows dotted quads treats `0x7f000001` as a DNS name and lets
 * the resolver turn it into 127.0.0.1 (issue 12). `host` is lowercase,
 * without brackets or port.
 */
export function canonicalHost(host: string): string | undefined {
  if (host.includes(':')) {
    if (!isIPv6(host)) return host;
    try {
      // Validated as IPv6 first, so no other URL part can hide in it; zone IDs do not parse.
      return new URL(`http://[${host}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  if (!endsInNumber(host)) return host;
  // Only these characters reach the URL parser, so userinfo, paths and
  // percent-escapes cannot change what it reads as the host.
  if (!/^[0-9a-z.-]+$/.test(host)) return undefined;
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}
