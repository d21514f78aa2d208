/**
 * What the network-namespace pod tests do to a pod from outside: curl in
 * it, wait for its sidecar's /readyz, and print every log when a step
 * fails. Shared by test/e2e/k8s-pods and test/e2e/bank-chain.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { logTail, type LoggedProcess } from './logged-process.ts';
import { nsRun, type PodNetwork } from './netns.ts';
import type { Credentials } from './spire.ts';

/** What {@link podCurl} saw. */
export interface CurlResult {
  readonly exit: number | null;
  readonly body: string;
  readonly status: number;
  readonly stderr: string;
}

/** curl inside `pod` as `who`; returns exit code, body and status. Never throws. */
export async function podCurl(net: PodNetwork, pod: string, who: Credentials | undefined, args: readonly string[], maxTimeS = 8): Promise<CurlResult> {
  const r = await nsRun(net.pod(pod).ns, ['curl', '-sS', '--max-time', String(maxTimeS), '-w', '\n%{http_code}', ...args], who, 20_000);
  const i = r.stdout.lastIndexOf('\n');
  return { exit: r.code, body: i < 0 ? '' : r.stdout.slice(0, i), status: Number(r.stdout.slice(i + 1)) || 0, stderr: r.stderr.trim() };
}

/** Polls a sidecar's /readyz at `ip:adminPort` from the node until it answers 200; fails with its log tail. */
export async function waitSidecarReady(ip: string, adminPort: number, sidecar: LoggedProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    if (sidecar.exited()) throw new Error(`${sidecar.name} exited:\n${sidecar.tail(30)}`);
    try {
      const res = await fetch(`http://${ip}:${adminPort}/readyz`, { signal: AbortSignal.timeout(1_000) });
      last = `${res.status} ${(await res.text()).trim()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = String(err);
    }
    await sleep(250);
  }
  throw new Error(`${sidecar.name} not ready after ${timeoutMs} ms (last /readyz: ${last.slice(0, 300)}):\n${sidecar.tail(30)}`);
}

/** Prints the tail of every `.log` file in `dir`, then each extra (name, tail) pair, as test diagnostics. */
export function dumpLogs(t: TestContext, dir: string, extra: readonly (readonly [string, () => string])[] = []): void {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  } catch {
    // folder already gone
  }
  for (const f of files) t.diagnostic(`--- ${f} ---\n${logTail(join(dir, f), 60)}`);
  for (const [name, tail] of extra) t.diagnostic(`--- ${name} ---\n${tail()}`);
}
