import dns, { type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ForwardError } from '../forward/index.ts';
import { canonicalHost } from '../core/index.ts';

/**
 * Addresses transparent mode never dials: they reach the pod or the node
 * itself (loopback, unspecified), link-local services such as cloud
 * metadata endpoints, or many hosts at once (multicast, broadcast), never
 * a peer workload's sidecar.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('127.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('224.0.0.0', 4, 'ipv4');
FORBIDDEN.addAddress('255.255.255.255', 'ipv4');
// ::/96 holds :: and ::1 and the deprecated IPv4-compatible addresses
// (RFC 4291 §2.5.5.1), such as ::7f00:1 for 127.0.0.1.
FORBIDDEN.addSubnet('::', 96, 'ipv6');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addSubnet('ff00::', 8, 'ipv6');

/**
 * True when transparent mode must not dial `address`, a resolver's answer.
 * Anything but a canonical IP literal is forbidden too (fail closed): a
 * spelling such as `0x7f000001` is no answer a resolver gives.
 */
export function isForbiddenDestination(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is checked as the IPv4 address it carries.
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) : null;
  if (mapped) return FORBIDDEN.check(mapped[1]!, 'ipv4');
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect that resolves like dns.lookup (so
 * /etc/hosts, then DNS) and refuses the name when it resolves only to
 * forbidden addresses; allowed addresses of a mixed answer are kept.
 * The refusal is a ForwardError ('forward.connect_failed', 503) naming
 * the addresses. A host that is an IP address in a spelling net.connect
 * does not recognise (`2130706433`, `0x7f000001`, `10.5`) is refused without
 * resolving: getaddrinfo would turn it into an address, and transparent
 * mode dials names only (transparent-route.ts refuses them first; this is
 * the second line). `resolve` and `forbidden` are injectable for tests
 * that run on loopback.
 */
export function guardedLookup(resolve: typeof dns.lookup = dns.lookup, forbidden: (address: string) => boolean = isForbiddenDestination): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    // A ForwardError passes through the dialer unchanged and becomes a 503 with this text.
    const refuse = (addresses: string[]): void =>
      callback(
        new ForwardError(
          'forward.connect_failed',
          `upstream connect error: ${hostname} resolves to ${addresses.join(', ')}, which transparent mode never dials (loopback, link-local, multicast or unspecified)`,
        ),
        '',
      );
    const canonical = canonicalHost(hostname.toLowerCase());
    if (canonical === undefined || isIP(canonical) !== 0) {
      callback(
        new ForwardError('forward.connect_failed', `upstream connect error: ${hostname} is an IP address${canonical ? ` (${canonical})` : ''}, not a name; transparent mode dials names only`),
        '',
      );
      return;
    }
    resolve(hostname, { ...options, all: true }, (err, list) => {
      if (err) return callback(err, '');
      const all = list as LookupAddress[];
      const allowed = all.filter((a) => !forbidden(a.address));
      if (allowed.length === 0) return refuse(all.map((a) => a.address));
      if (options.all) return callback(null, allowed);
      const first = allowed[0]!;
      callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}
