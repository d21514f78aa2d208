import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeError } from '../core/index.ts';
import { OriginalDestinationError } from './original-destination-error.ts';

/** Where a redirected connection was headed before iptables rewrote it. */
export interface OriginalDestination {
  /** The original destination IP (IPv4 dotted quad or IPv6 text form). */
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/**
 * The addon's path: `build/native/original_dst.node` under the project root,
 * which is two folders up from this file both as source
 * (sidecar/transparent/) and compiled (dist/transparent/).
 */
export const ORIGINAL_DESTINATION_ADDON = fileURLToPath(new URL('../../build/native/original_dst.node', import.meta.url));

/** The command that builds the addon (run from the project root; `make deps` runs it too). */
export const ORIGINAL_DESTINATION_BUILD_COMMAND = './native/original-dst/build.sh';

/** The addon's one function (native/original-dst/original_dst.c): "<port> <address>", or -errno. */
interface Addon {
  get(fd: number, ipv4: boolean): string | number;
}

const loaded = new Map<string, Addon>();

/**
 * Loads the original-destination addon (once per path) and throws
 * 'transparent.addon_unavailable', naming the file and the build command,
 * when it cannot be loaded. Transparent mode calls it at start-up so a
 * missing addon stops the sidecar before it accepts anything; explicit
 * mode never calls it.
 */
export function loadOriginalDestination(path: string = ORIGINAL_DESTINATION_ADDON): void {
  if (loaded.has(path)) return;
  let addon: unknown;
  try {
    addon = createRequire(import.meta.url)(path);
  } catch (err) {
    throw new OriginalDestinationError(
      'transparent.addon_unavailable',
      `cannot load the original-destination addon ${path} (${describeError(err).split('\n')[0]}); build it with ${ORIGINAL_DESTINATION_BUILD_COMMAND} (Linux, needs a C compiler)`,
      { cause: err },
    );
  }
  if (typeof (addon as Partial<Addon> | null)?.get !== 'function') {
    throw new OriginalDestinationError('transparent.addon_unavailable', `${path} is not the original-destination addon (no get function); rebuild it with ${ORIGINAL_DESTINATION_BUILD_COMMAND}`);
  }
  loaded.set(path, addon as Addon);
}

/** errno values that mean "this connection was not NATed": no conntrack entry, or no conntrack at all. */
const NOT_REDIRECTED = new Set([constants.errno.ENOENT, constants.errno.ENOPROTOOPT]);

function errnoName(n: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === n) return name;
  return `errno ${n}`;
}

/**
 * The destination an accepted connection had before an iptables REDIRECT
 * sent it to our listener (getsockopt SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST),
 * or undefined when it was not redirected: the kernel has no NAT entry for
 * it, or the original destination is the listener's own address and port.
 * Loads the addon on first use; throws 'transparent.addon_unavailable' when
 * it cannot, and 'transparent.lookup_failed' for other kernel errors.
 *
 * The descriptor comes from `socket._handle.fd`, an internal property of
 * Node's TCP handle (a server-side TLSSocket's handle reports the descriptor
 * of the TCP handle it wraps). Reading it is safe: the read and the
 * getsockopt run synchronously on the JavaScript thread, and libuv closes a
 * descriptor only on that same thread, so it cannot be closed and reused by
 * another connection in between. A Node without the property gives no
 * number, which is refused here rather than guessed.
 */
export function originalDestination(socket: Socket, addonPath: string = ORIGINAL_DESTINATION_ADDON): OriginalDestination | undefined {
  let addon = loaded.get(addonPath);
  if (addon === undefined) {
    loadOriginalDestination(addonPath);
    addon = loaded.get(addonPath)!;
  }
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  const local = socket.localAddress;
  if (typeof fd !== 'number' || fd < 0 || local === undefined) {
    throw new OriginalDestinationError('transparent.lookup_failed', 'the socket has no open file descriptor (closed, or not a TCP socket)');
  }
  // A v4-mapped local address is IPv4 traffic on a dual-stack socket: IPv4 conntrack tracks it.
  const localIp = local.startsWith('::ffff:') && local.includes('.') ? local.slice(7) : local;
  const ipv4 = !localIp.includes(':');
  const r = addon.get(fd, ipv4);
  if (typeof r === 'number') {
    if (NOT_REDIRECTED.has(-r)) return undefined;
    throw new OriginalDestinationError('transparent.lookup_failed', `getsockopt(SO_ORIGINAL_DST) failed: ${errnoName(-r)}`);
  }
  const space = r.indexOf(' ');
  const port = Number(r.slice(0, space));
  const address = r.slice(space + 1);
  if (port === socket.localPort && address === localIp) return undefined;
  return { address, port, family: ipv4 ? 'IPv4' : 'IPv6' };
}
