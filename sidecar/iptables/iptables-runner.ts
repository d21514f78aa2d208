import { execFile } from 'node:child_process';
import { describeError, silentLogger, type Logger } from '../core/index.ts';
import { IptablesError } from './iptables-error.ts';
import type { IptablesOptions } from './iptables-options.ts';
import { planIptables, planIptablesClean } from './plan-iptables.ts';

/** The outcome of one command; `code` is the exit status (never rejects for a non-zero exit). */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one program with arguments (no shell). Injected so unit tests can record the calls. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandResult>;

/**
 * The real runner: `execFile`, no shell, 30 s timeout. A program that cannot
 * be started rejects with 'iptables.not_found'.
 */
export const execFileRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') {
        reject(new IptablesError('iptables.not_found', `cannot run ${file}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });

/** How to run iptables. */
export interface IptablesRunOptions {
  readonly runner?: CommandRunner;
  /** The iptables binary (default `iptables`: Debian's alternative, nft backend on bookworm). */
  readonly iptables?: string;
  /** The ip6tables binary (default `ip6tables`), used when IPv6 rules are on. */
  readonly ip6tables?: string;
  readonly logger?: Logger;
}

/**
 * Exit statuses iptables uses when a chain or rule to remove is not there:
 * 1 ("No chain/target/match by that name") and 2 (nft's "Chain ... does not
 * exist" for a jump to a missing chain). Anything else, e.g. 4 for a lock or
 * permission problem, is a real failure even while cleaning.
 */
const NOTHING_TO_REMOVE = new Set([1, 2]);

/** At most this many copies of a jump are removed (guards against a runner that never fails). */
const MAX_DUPLICATE_JUMPS = 16;

function show(argv: readonly string[]): string {
  return argv.join(' ');
}

/** The binaries to run, IPv4 first. */
function binaries(opts: IptablesRunOptions, ipv6: boolean): string[] {
  const v4 = opts.iptables ?? 'iptables';
  return ipv6 ? [v4, opts.ip6tables ?? 'ip6tables'] : [v4];
}

/**
 * Removes the project's chains and jumps, from iptables and (unless `ipv6`
 * is false) ip6tables; absent ones are skipped. Returns the commands
 * (binary first) that actually removed something. Throws
 * 'iptables.command_failed' for any other failure.
 */
export async function cleanIptables(opts: IptablesRunOptions & { readonly ipv6?: boolean } = {}): Promise<string[][]> {
  const run = opts.runner ?? execFileRunner;
  const log = opts.logger ?? silentLogger;
  const done: string[][] = [];
  for (const bin of binaries(opts, opts.ipv6 ?? true)) {
    for (const cmd of planIptablesClean()) {
      const repeat = cmd.includes('-D') ? MAX_DUPLICATE_JUMPS : 1;
      for (let i = 0; i < repeat; i++) {
        const r = await run(bin, cmd);
        if (r.code === 0) {
          done.push([bin, ...cmd]);
          continue;
        }
        if (!NOTHING_TO_REMOVE.has(r.code)) {
          throw new IptablesError('iptables.command_failed', `${bin} ${show(cmd)} exited ${r.code}: ${r.stderr.trim()}`);
        }
        log.debug({ cmd: `${bin} ${show(cmd)}`, code: r.code }, 'nothing to remove');
        break;
      }
    }
  }
  return done;
}

/**
 * Installs the redirect rules idempotently, IPv4 then (when
 * `options.ipv6`) IPv6: removes the project's chains first (so a re-run,
 * e.g. a restarted init container, starts clean), then runs
 * {@link planIptables} for each family. Returns the commands, binary first.
 * If a command fails, what was added in either family is removed again and
 * 'iptables.command_failed' names the command and its stderr: a
 * half-installed rule set could redirect traffic to nothing, and IPv4
 * rules without their IPv6 twins would let the app bypass the sidecar
 * over IPv6.
 */
export async function applyIptables(options: IptablesOptions, opts: IptablesRunOptions = {}): Promise<string[][]> {
  const run = opts.runner ?? execFileRunner;
  const log = opts.logger ?? silentLogger;
  const [v4, v6] = binaries(opts, options.ipv6);
  const plan: string[][] = planIptables(options, 4).map((c) => [v4!, ...c]);
  if (v6 !== undefined) plan.push(...planIptables(options, 6).map((c) => [v6, ...c]));
  const cleanOpts = { ...opts, ipv6: options.ipv6 };
  await cleanIptables(cleanOpts);
  for (const [bin, ...cmd] of plan) {
    let r: CommandResult;
    try {
      r = await run(bin!, cmd);
    } catch (err) {
      await rollback(cleanOpts, log);
      throw err;
    }
    if (r.code !== 0) {
      const failure = `${bin} ${show(cmd)} exited ${r.code}: ${r.stderr.trim()}`;
      await rollback(cleanOpts, log);
      throw new IptablesError('iptables.command_failed', failure);
    }
    log.debug({ cmd: `${bin} ${show(cmd)}` }, 'applied');
  }
  return plan;
}

/** Removes what a failed apply added; a failure here is logged, the original error wins. */
async function rollback(opts: IptablesRunOptions & { readonly ipv6: boolean }, log: Logger): Promise<void> {
  try {
    await cleanIptables(opts);
  } catch (err) {
    log.error({ err: describeError(err) }, 'rollback after a failed apply also failed');
  }
}
