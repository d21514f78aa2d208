/**
 * Runs the test suites with node's built-in runner: unit, integration and
 * e2e in one invocation (one summary for them), then the quick benchmark on
 * its own. `node test/support/run-tests.ts unit` limits the run to the named
 * folders under test/.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const suites = process.argv.slice(2);
const folders = suites.length > 0 ? suites : ['unit', 'integration', 'e2e', 'bench'];

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
    console.error(`run-tests: no test files under ${folderList.join(', ')}`);
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
if (suites.length === 0 || folders.includes('bench')) status = runSuite(['bench']) || status;
process.exit(status);
