import { BlockList, isIPv4, isIPv6 } from 'node:net';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * True when a TCP peer address is loopback: 127.0.0.0/8, ::1, or an
 * IPv4-mapped 127.x address (how a dual-stack `::` listener reports IPv4
 * loopback peers). BlockList compares numerically, so every spelling of an
 * address (`::ffff:7f00:1`, `0:0:0:0:0:0:0:1`) is classified the same way.
 * Anything else, including undefined (socket already closed), is not.
 */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (isIPv4(address)) return loopback.check(address, 'ipv4');
  if (isIPv6(address)) return loopback.check(address, 'ipv6');
  return false;
}
