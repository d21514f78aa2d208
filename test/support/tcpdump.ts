/**
 * Packet captures for the network-namespace pod tests: tcpdump (Debian's)
 * writing a pcap file, on an interface of the root namespace (the pods'
 * bridge) or of a pod (its loopback), so a test can look for a plaintext
 * marker in what crossed that wire. Each capture is stopped through the
 * Teardown, and killed by its exit hook.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatIp } from '../../sidecar/policy/ip-address.ts';
import { inNamespace } from './netns.ts';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import { run } from './spire.ts';
import type { Teardown } from './teardown.ts';

/** Options of {@link startCapture}. */
export interface CaptureOptions {
  /** Names the capture in logs and teardown labels. */
  readonly name: string;
  /** Interface to capture on. */
  readonly iface: string;
  /** The namespace of the interface; the root namespace when omitted. */
  readonly ns?: string;
  /** A pcap-filter(7) expression as words, e.g. `['tcp', 'and', 'host', '10.0.0.5']`. */
  readonly filter: readonly string[];
  /** The pcap file to write. */
  readonly file: string;
  /** tcpdump's own output (the "listening on" line, drop counts). */
  readonly logFile: string;
  readonly teardown: Teardown;
}

/** A running or stopped capture. */
export interface Capture {
  readonly file: string;
  readonly process: LoggedProcess;
  /** The packets written so far, one summary line each (`tcpdump -r -nn`), e.g. `... IP 10.0.0.2.40000 > 10.0.0.5.5432: Flags [F.] ...`. */
  packets(): Promise<string[]>;
  /** Polls {@link packets} until `predicate` holds; throws with the last lines after `timeoutMs`. */
  waitFor(what: string, predicate: (lines: readonly string[]) => boolean, timeoutMs?: number): Promise<readonly string[]>;
  /** True when the raw bytes of the capture file contain `marker` (payload in the clear). */
  contains(marker: string): boolean;
  /** The TCP segments with a payload written so far, in capture order. */
  segments(): TcpSegment[];
  /** Stops tcpdump (it flushes the file and exits). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts tcpdump writing every packet of `o.filter` on `o.iface` to
 * `o.file`, whole packets (`-s 0`), packet-buffered (`-U`: each packet is
 * in the file as soon as tcpdump has it), as root (`-Z root`: the file is
 * in a folder only root may write). Resolves once tcpdump listens.
 */
export async function startCapture(o: CaptureOptions): Promise<Capture> {
  const argv = ['tcpdump', '-i', o.iface, '-n', '-s', '0', '-U', '-Z', 'root', '-w', o.file, ...o.filter];
  const proc = startLogged({
    name: o.name,
    argv: o.ns === undefined ? argv : inNamespace(o.ns, argv),
    logFile: o.logFile,
    teardown: o.teardown,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  await proc.waitForLine(/listening on/, 15_000);
  const packets = async (): Promise<string[]> => {
    const r = await run('tcpdump', ['-r', o.file, '-nn', '-tt'], { timeoutMs: 20_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    // A file still being written may end in a partial packet: tcpdump prints what it read and complains.
    return r.stdout.split('\n').filter((l) => l.trim() !== '');
  };
  return {
    file: o.file,
    process: proc,
    packets,
    async waitFor(what, predicate, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      let lines: string[] = [];
      for (;;) {
        lines = await packets();
        if (predicate(lines)) return lines;
        if (Date.now() > end) throw new Error(`${o.name}: ${what} not captured within ${timeoutMs} ms; ${lines.length} packets:\n${lines.slice(-15).join('\n')}`);
        await sleep(200);
      }
    },
    contains(marker) {
      return readFileSync(o.file).includes(Buffer.from(marker, 'utf8'));
    },
    segments: () => tcpSegments(readFileSync(o.file)),
    stop: () => proc.stop(3_000),
  };
}

/** One captured TCP segment that carried data. */
export interface TcpSegment {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Buffer;
}

const LINKTYPE_ETHERNET = 1;

/**
 * The TCP segments with a payload in a classic pcap file (the format
 * `tcpdump -w` writes; pcap-savefile(5)) of Ethernet frames, IPv4 or IPv6
 * without extension headers, which is all the pod network carries. A
 * truncated last record (a file still being written) is ignored.
 */
export function tcpSegments(file: Buffer): TcpSegment[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('tcpdump: not a pcap file');
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  if (u32(20) !== LINKTYPE_ETHERNET) throw new Error(`tcpdump: link type ${u32(20)} is not Ethernet`);
  const out: TcpSegment[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const caplen = u32(at + 8);
    const start = at + 16;
    at = start + caplen;
    if (at > file.length) break;
    const seg = tcpOfFrame(file.subarray(start, at));
    if (seg !== undefined && seg.payload.length > 0) out.push(seg);
  }
  return out;
}

function tcpOfFrame(f: Buffer): TcpSegment | undefined {
  if (f.length < 14) return undefined;
  const etherType = f.readUInt16BE(12);
  let tcp: Buffer;
  let src: string;
  let dst: string;
  if (etherType === 0x0800) {
    const ip = f.subarray(14);
    if (ip.length < 20 || ip[9] !== 6) return undefined;
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    src = formatIp(4, ip.subarray(12, 16));
    dst = formatIp(4, ip.subarray(16, 20));
    tcp = ip.subarray(ihl, Math.min(total, ip.length));
  } else if (etherType === 0x86dd) {
    const ip = f.subarray(14);
    if (ip.length < 40 || ip[6] !== 6) return undefined;
    src = formatIp(6, ip.subarray(8, 24));
    dst = formatIp(6, ip.subarray(24, 40));
    tcp = ip.subarray(40, 40 + ip.readUInt16BE(4));
  } else {
    return undefined;
  }
  if (tcp.length < 20) return undefined;
  const dataOffset = (tcp[12]! >> 4) * 4;
  return { src, srcPort: tcp.readUInt16BE(0), dst, dstPort: tcp.readUInt16BE(2), payload: tcp.subarray(dataOffset) };
}
