/**
 * The machine and tool versions printed with every result table, so a
 * figure is never read without knowing where it came from.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';

/** Hardware and kernel of the benchmark machine. */
export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
}

/** Versions of everything measured or measuring. */
export type Versions = Readonly<Record<'node' | 'nginx' | 'ghostunnel' | 'wrk' | 'h2load' | 'openssl' | 'go', string>>;

/** Reads nproc, the CPU model, total memory and the kernel release. */
export function machineInfo(): Machine {
  let cpuModel = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // not Linux; keep unknown
  }
  return { nproc: availableParallelism(), cpuModel, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, kernel: release() };
}

/** First line of `cmd args` (stdout or stderr) matching `re`, or "unavailable". */
function versionOf(cmd: string, args: readonly string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  const m = re.exec(text);
  return m?.[1]?.trim() ?? 'unavailable';
}

/** Asks every tool for its version. */
export function toolVersions(nodePath: string, ghostunnelPath: string): Versions {
  return {
    node: versionOf(nodePath, ['--version'], /^(v\S+)/m),
    nginx: versionOf('nginx', ['-v'], /nginx version: nginx\/(\S+)/),
    ghostunnel: versionOf(ghostunnelPath, ['--version'], /rev (\S+ built with \S+)/),
    wrk: versionOf('wrk', ['--version'], /^wrk (\S+)/m),
    h2load: versionOf('h2load', ['--version'], /h2load (nghttp2\/\S+)/),
    openssl: versionOf('openssl', ['version'], /^(OpenSSL \S+)/m),
    go: versionOf('go', ['version'], /go version (go\S+)/),
  };
}
