/**
 * Client addresses claimed by earlier hops, read from `Forwarded`
 * (RFC 7239 §4, the `for=` parameter) or, when there is none, from
 * `X-Forwarded-For`. Nothing here decides whom to believe: the policy's
 * `remoteAddress` settings do, counting hops from the right.
 */
import { nameEquals } from '../headers/index.ts';

/** The result of {@link forwardedFor}: addresses leftmost first, or why the headers cannot be read. */
export type ForwardedFor = { readonly ok: true; readonly addresses: readonly string[] } | { readonly ok: false; readonly problem: string };

const EMPTY: ForwardedFor = Object.freeze({ ok: true, addresses: Object.freeze([]) });

/** At most this many hops are read; a longer chain is refused rather than parsed without bound. */
export const MAX_FORWARDED_HOPS = 32;

/**
 * Reads the claimed client chain from a raw header array. Several lines of
 * one header are one list in order (RFC 9110 §5.3). An element that is not
 * an address (`unknown`, an obfuscated `_hidden` name) stays in the list
 * as written, so hop counting stays right, and can never match a CIDR.
 */
export function forwardedFor(raw: readonly string[]): ForwardedFor {
  let forwarded: string | undefined;
  let xff: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 9 && nameEquals(name, 'forwarded')) forwarded = forwarded === undefined ? raw[i + 1]! : `${forwarded},${raw[i + 1]!}`;
    else if (name.length === 15 && nameEquals(name, 'x-forwarded-for')) xff = xff === undefined ? raw[i + 1]! : `${xff},${raw[i + 1]!}`;
  }
  if (forwarded !== undefined) return parseForwarded(forwarded);
  if (xff !== undefined) return parseXff(xff);
  return EMPTY;
}

function parseXff(value: string): ForwardedFor {
  const parts = value.split(',');
  if (parts.length > MAX_FORWARDED_HOPS) return { ok: false, problem: `X-Forwarded-For lists more than ${MAX_FORWARDED_HOPS} hops` };
  const out: string[] = [];
  for (const p of parts) {
    const a = p.trim();
    if (a === '') return { ok: false, problem: 'X-Forwarded-For has an empty element' };
    out.push(stripPort(a));
  }
  return { ok: true, addresses: out };
}

function parseForwarded(value: string): ForwardedFor {
  const elements = value.split(',');
  if (elements.length > MAX_FORWARDED_HOPS) return { ok: false, problem: `Forwarded lists more than ${MAX_FORWARDED_HOPS} hops` };
  const out: string[] = [];
  for (const el of elements) {
    let node: string | undefined;
    for (const pair of el.split(';')) {
      const p = pair.trim();
      if (p === '') continue;
      const eq = p.indexOf('=');
      if (eq <= 0) return { ok: false, problem: 'Forwarded has a parameter without a value' };
      if (p.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      if (node !== undefined) return { ok: false, problem: 'Forwarded has two for= parameters in one element' };
      let v = p.slice(eq + 1).trim();
      if (v.startsWith('"')) {
        if (v.length < 2 || !v.endsWith('"')) return { ok: false, problem: 'Forwarded has an unterminated quoted value' };
        v = v.slice(1, -1);
      }
      node = v;
    }
    // An element without for= still counts as a hop whose client is unknown.
    out.push(node === undefined ? 'unknown' : stripPort(node));
  }
  return { ok: true, addresses: out };
}

/** `[2001:db8::1]:4711` → `2001:db8::1`; `192.0.2.1:80` → `192.0.2.1`; anything else unchanged. */
function stripPort(node: string): string {
  if (node.startsWith('[')) {
    const end = node.indexOf(']');
    return end === -1 ? node : node.slice(1, end);
  }
  const colon = node.indexOf(':');
  // More than one colon is a bare IPv6 address (X-Forwarded-For writes them so).
  if (colon !== -1 && node.indexOf(':', colon + 1) === -1) return node.slice(0, colon);
  return node;
}
