/**
 * Runs the test suites with node's built-in runner in one invocation, so the
 * closing summary counts every test. `node test/support/run-tests.ts unit`
 * limits the run to the named folders under test/.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const suites = process.argv.slice(2);
const folders = suites.length > 0 ? suites : ['unit', 'integration', 'e2e'];

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

const files: string[] = [];
for (const f of folders) collect(join(root, 'test', f), files);
if (files.length === 0) {
  console.error(`run-tests: no test files under ${folders.join(', ')}`);
  process.exit(1);
}
// Integration and e2e tests start real processes; two files at a time keeps
// a 2-core machine responsive enough for timing-sensitive rotation tests.
const res = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=600000', '--disable-warning=ExperimentalWarning', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(res.status ?? 1);
