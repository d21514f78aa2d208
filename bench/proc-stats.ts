/**
 * Reads what the kernel accounts per process: CPU time from
 * /proc/<pid>/stat (utime + stime, all threads, in clock ticks) and resident
 * memory from /proc/<pid>/status (VmRSS), and samples RSS while load runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second (USER_HZ), from getconf; 100 on Linux nearly everywhere. */
export const CLOCK_TICKS_PER_SECOND: number = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the command name, which may itself contain spaces and ')'. */
function statFields(pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** CPU time in microseconds, user and kernel (system) separately. */
export interface CpuTime {
  readonly user: number;
  readonly sys: number;
}

/** utime and stime of `pid` in microseconds (fields 14 and 15 of proc(5), all threads). */
export function cpuMicros(pid: number): CpuTime {
  const f = statFields(pid);
  const us = (ticks: string | undefined): number => (Number(ticks) * 1e6) / CLOCK_TICKS_PER_SECOND;
  return { user: us(f[11]), sys: us(f[12]) };
}

/** VmRSS of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`bench: no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Direct children of `pid` (by the ppid field of every /proc/<n>/stat). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (Number(statFields(Number(e))[1]) === pid) out.push(Number(e));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

/**
 * A proxy seen as a set of processes (one for the sidecar and ghostunnel;
 * master + worker for nginx). Figures are sums over the set.
 */
export interface ProcessGroup {
  readonly label: string;
  readonly pids: readonly number[];
}

/** CPU microseconds of a group, summed over its processes. */
export function groupCpuMicros(g: ProcessGroup): CpuTime {
  return g.pids.map(cpuMicros).reduce((a, b) => ({ user: a.user + b.user, sys: a.sys + b.sys }), { user: 0, sys: 0 });
}

/** Total RSS bytes of a group. */
export function groupRssBytes(g: ProcessGroup): number {
  return g.pids.reduce((s, p) => s + rssBytes(p), 0);
}

/** Samples the RSS of some groups at a fixed interval and keeps the peak of each. */
export class RssSampler {
  readonly #groups: readonly ProcessGroup[];
  readonly #peak: number[];
  readonly #timer: NodeJS.Timeout;
  #samples = 0;

  constructor(groups: readonly ProcessGroup[], intervalMs = 100) {
    this.#groups = groups;
    this.#peak = groups.map(() => 0);
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    this.#samples++;
    this.#groups.forEach((g, i) => {
      try {
        this.#peak[i] = Math.max(this.#peak[i]!, groupRssBytes(g));
      } catch {
        // a process that exited mid-run is reported by the run itself
      }
    });
  }

  /** Stops sampling and returns the peak RSS (bytes) per group, in the order given, and the sample count. */
  stop(): { peaks: number[]; samples: number } {
    clearInterval(this.#timer);
    this.#sample();
    return { peaks: [...this.#peak], samples: this.#samples };
  }
}
