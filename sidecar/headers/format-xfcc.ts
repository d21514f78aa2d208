import { quoteUntrusted } from '../spiffe/index.ts';
import { HeaderError } from './header-error.ts';

/** One `key=value` pair of an XFCC element. Keys are case-insensitive, values case-sensitive. */
export interface XfccPair {
  readonly key: string;
  readonly value: string;
}

/** One XFCC element: the pairs one proxy added for one client certificate, in order. */
export type XfccElement = readonly XfccPair[];

/** RFC 9110 §5.6.2 token, the syntax accepted for XFCC keys (By, Hash, URI, DNS, Subject, Cert, Chain). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Formats an x-forwarded-client-cert value in Envoy's grammar: elements
 * joined by ',', pairs by ';', `key=value`. A value containing ',', ';', '='
 * or '"', starting or ending with a space, or empty, is double-quoted, with
 * '"' written as '\"' and '\' as '\\'. Values are limited to printable ASCII
 * and space: CR, LF, NUL and other controls (tab included) would let a value
 * end the header early or be trimmed away, so they throw HeaderError
 * 'headers.invalid_value', as do keys that are not tokens and elements
 * without pairs.
 */
export function formatXfcc(elements: readonly XfccElement[]): string {
  let out = '';
  for (let e = 0; e < elements.length; e++) {
    const element = elements[e]!;
    if (element.length === 0) throw invalid('an XFCC element needs at least one key=value pair');
    if (e > 0) out += ',';
    for (let p = 0; p < element.length; p++) {
      const { key, value } = element[p]!;
      if (typeof key !== 'string' || !TOKEN.test(key)) throw invalid(`XFCC key ${describe(key)} is not a token`);
      if (p > 0) out += ';';
      out += key + '=' + formatValue(key, value);
    }
  }
  return out;
}

function formatValue(key: string, value: string): string {
  if (typeof value !== 'string') throw invalid(`XFCC value of ${key} is not a string`);
  let quote = value.length === 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw invalid(`XFCC value of ${key} contains a control or non-ASCII character: ${quoteUntrusted(value)}`);
    }
    if (c === 0x2c || c === 0x3b || c === 0x3d || c === 0x22) quote = true;
  }
  if (!quote && (value.charCodeAt(0) === 0x20 || value.charCodeAt(value.length - 1) === 0x20)) {
    quote = true; // unquoted values are trimmed by parsers
  }
  if (!quote) return value;
  return '"' + value.replace(/[\\"]/g, (m) => '\\' + m) + '"';
}

function describe(v: unknown): string {
  return typeof v === 'string' ? quoteUntrusted(v) : typeof v;
}

function invalid(message: string): HeaderError {
  return new HeaderError('headers.invalid_value', `headers: ${message}`);
}
