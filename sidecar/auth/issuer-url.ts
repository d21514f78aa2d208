import { quoteUntrusted } from '../spiffe/index.ts';

/**
 * True for names that stay on this host: `localhost`, 127.0.0.0/8 and ::1.
 * Only these may be reached over plain http, where nobody can tamper with
 * the keys in transit.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
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
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
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
