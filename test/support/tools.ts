/**
 * Gate for tests that need an external tool or root. Under CI=true a missing
 * requirement fails the test with a clear message; on a developer machine
 * the test is skipped with the same message.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export const inCi = process.env['CI'] === 'true';

/** Returns true when `cmd` is on PATH. */
export function haveTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** True when running as root (needed for uid switching and network namespaces). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Call at the top of a test: returns false (and skips) when a requirement is
 * missing outside CI, throws when it is missing under CI=true.
 */
export function requireTools(t: TestContext, tools: readonly string[], opts: { root?: boolean } = {}): boolean {
  const missing = tools.filter((c) => !haveTool(c));
  if (opts.root && !isRoot()) missing.push('root privileges');
  if (missing.length === 0) return true;
  const msg = `missing: ${missing.join(', ')} (run 'make deps' to install)`;
  if (inCi) throw new Error(`test requirement ${msg}`);
  t.skip(msg);
  return false;
}
