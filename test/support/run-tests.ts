/**
 * Runs the test suites with node's built-in runner.
 *
 *   node test/support/run-tests.ts            the fast loop (`npm test`): unit + integration
 *   node test/support/run-tests.ts ci         everything CI runs (`make test`): unit, integration
 *                                             and e2e in one invocation (one summary), then the
 *                                             quick benchmark on its own
 *   node test/support/run-tests.ts unit e2e   the named folders under test/ (bench last, alone)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Named selections; anything else on the command line is a folder under test/. */
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  fast: ['unit', 'integration'],
  ci: ['unit', 'integration', 'e2e', 'bench'],
};

const args = process.argv.slice(2);
const folders = [...new Set((args.length > 0 ? args : ['fast']).flatMap((a) => GROUPS[a] ?? [a]))];

function collect(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (e.endsWith('.test.ts')) out.push(relative(root, p));
  }
}

function runSuite(folderList: readonly string[]): number {
  const files: string[] = [];
  for (const f of folderList) collect(join(root, 'test', f), files);
  if (files.length === 0) {
    console.error(`run-tests: no test files under test/${folderList.join(', test/')}`);
    return 1;
  }
  // Integration and e2e tests start real processes; two files at a time keeps
  // a 2-core machine responsive enough for timing-sensitive rotation tests.
  const res = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-timeout=600000', '--disable-warning=ExperimentalWarning', ...files],
    { cwd: root, stdio: 'inherit' },
  );
  return res.status ?? 1;
}

// The quick benchmark keeps both cores busy for minutes, so it runs on its
// own after the other suites instead of beside timing-sensitive tests.
const main = folders.filter((f) => f !== 'bench');
let status = main.length > 0 ? runSuite(main) : 0;
if (folders.includes('bench')) status = runSuite(['bench']) || status;
process.exit(status);
