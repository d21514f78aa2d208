import { quoteUntrusted } from '../spiffe/index.ts';

/**
 * True for URL host names that stay on this host: `localhost`, 127.0.0.0/8
 * and ::1 (with or without brackets). IPv4-mapped forms are not listed: the
 * URL parser never produces them in dotted form (config/address-fields.ts
 * checks configured listen hosts, where they can be written).
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * True when a request to `url` is safe from listeners on the way: https, or
 * plain http to a loopback host, where nobody else can read the tokens,
 * secrets or keys it carries (RFC 7662 §4, RFC 6749 §3.2 require TLS).
 */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** Why {@link parseFetchUrl} refused a URL; `insecure` when only the scheme is wrong. */
export interface UrlRefusal {
  readonly insecure: boolean;
  readonly message: string;
}

/**
 * Parses a URL keys or metadata may be fetched from: https, or http on
 * loopback; no user info (it would be a credential in configuration and
 * logs) and no fragment. Returns the URL or why it is refused.
 */
export function parseFetchUrl(text: string): URL | UrlRefusal {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { insecure: false, message: `${quoteUntrusted(text, 128)} is not an absolute URL` };
  }
  if (!isHttpsOrLoopback(url)) {
    return { insecure: true, message: `${describeUrl(url)} must use https (http only on loopback)` };
  }
  if (url.username !== '' || url.password !== '') return { insecure: false, message: `${describeUrl(url)} must not carry user info` };
  if (url.hash !== '') return { insecure: false, message: `${describeUrl(url)} must not have a fragment` };
  return url;
}

/**
 * The OpenID Connect discovery URL of `issuer`: the issuer with any
 * trailing '/' removed, then `/.well-known/openid-configuration`
 * (OpenID Connect Discovery 1.0 §4).
 */
export function discoveryUrl(issuer: URL): URL {
  const base = issuer.href.endsWith('/') ? issuer.href.slice(0, -1) : issuer.href;
  return new URL(`${base}/.well-known/openid-configuration`);
}

/** A URL for logs and messages: origin and path, never the query (it may carry secrets). */
export function describeUrl(url: URL): string {
  return quoteUntrusted(`${url.protocol}//${url.host}${url.pathname}`, 200);
}
