import { formatIp, isMappedIpv4, parseIpInto, type IpFamily } from './ip-address.ts';

/** One CIDR block, compiled. */
interface IpBlock {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** Result of {@link parseIpBlock}: the canonical spelling, or why the text is refused. */
export type ParsedIpBlock = { readonly ok: true; readonly canonical: string } | { readonly ok: false; readonly problem: string };

/**
 * Checks a CIDR block written in a policy (`10.0.0.0/8`, `2001:db8::/32`, or
 * a bare address meaning /32 or /128) and returns its canonical spelling.
 *
 * Refused, because they would not mean what they seem to: host bits set
 * (`10.0.0.1/8`: a typo for /32, or for 10.0.0.0/8?), and IPv4-mapped IPv6
 * blocks (addresses are compared as IPv4, so the IPv4 form must be written).
 */
export function parseIpBlock(text: string): ParsedIpBlock {
  const slash = text.indexOf('/');
  const addrEnd = slash < 0 ? text.length : slash;
  const bytes = new Uint8Array(16);
  const family = parseIpInto(text, 0, addrEnd, bytes);
  if (family === 0) return { ok: false, problem: 'not an IPv4 or IPv6 address (zone IDs and leading zeros are not accepted)' };
  const mapped = family === 4 && text.lastIndexOf(':', addrEnd) >= 0;
  const max = family === 4 && !mapped ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) {
      return { ok: false, problem: `prefix length must be a number from 0 to ${max}` };
    }
    prefix = Number(p);
  }
  if (mapped) {
    const hint = prefix >= 96 ? `${formatIp(4, bytes)}/${prefix - 96}` : 'the IPv4 block instead';
    return { ok: false, problem: `IPv4-mapped addresses are matched as IPv4; write ${hint}` };
  }
  const masked = maskBytes(bytes, family === 4 ? 4 : 16, prefix);
  if (masked.some((v, i) => v !== bytes[i])) {
    return { ok: false, problem: `host bits are set; did you mean ${formatIp(family, masked)}/${prefix}?` };
  }
  return { ok: true, canonical: `${formatIp(family, bytes)}/${prefix}` };
}

function maskBytes(bytes: Uint8Array, length: number, prefix: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/**
 * A compiled list of CIDR blocks (canonical spellings from
 * {@link parseIpBlock}); an address matches when it is in any of them.
 * IPv4 blocks match only IPv4 addresses (IPv4-mapped IPv6 ones included),
 * IPv6 blocks only IPv6 ones: `::/0` does not cover IPv4 clients.
 */
export class IpBlockSet {
  readonly #v4: readonly IpBlock[];
  readonly #v6: readonly IpBlock[];

  constructor(canonical: readonly string[]) {
    const v4: IpBlock[] = [];
    const v6: IpBlock[] = [];
    for (const c of canonical) {
      const slash = c.indexOf('/');
      const bytes = new Uint8Array(16);
      const family = parseIpInto(c, 0, slash, bytes);
      const block = { bytes, prefix: Number(c.slice(slash + 1)) };
      if (family === 4) v4.push(block);
      else if (family === 6 && !isMappedIpv4(bytes)) v6.push(block);
    }
    this.#v4 = v4;
    this.#v6 = v6;
  }

  /** True when the parsed address (family and bytes from parseIpInto) lies in a block; family 0 never matches. */
  contains(family: IpFamily, bytes: Uint8Array): boolean {
    if (family === 0) return false;
    const blocks = family === 4 ? this.#v4 : this.#v6;
    for (let i = 0; i < blocks.length; i++) if (inBlock(blocks[i]!, bytes)) return true;
    return false;
  }
}

function inBlock(block: IpBlock, bytes: Uint8Array): boolean {
  const full = block.prefix >> 3;
  for (let i = 0; i < full; i++) if (block.bytes[i] !== bytes[i]) return false;
  const rest = block.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (block.bytes[full]! & mask) === (bytes[full]! & mask);
}
