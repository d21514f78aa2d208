/**
 * Runs the `run` command in this process with the given config, then throws
 * from a timer once the sidecar is up (argv[3] = 'exception') or rejects a
 * promise nobody handles ('rejection'). crash.test.ts checks that the CLI
 * logs it and exits 1.
 */
import { runCommand } from '../../../sidecar/cli/run.ts';

const [configPath, kind] = process.argv.slice(2);
const stop = new AbortController();
const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: {},
  stopSignal: stop.signal,
};
setTimeout(() => {
  if (kind === 'rejection') void Promise.reject(new Error('boom: a rejection nobody handled'));
  else throw new Error('boom: an exception nobody caught');
}, 300);
void runCommand(['--config', configPath!], io).then((code) => {
  process.exitCode = code;
});
