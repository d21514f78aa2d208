/**
 * After close(), nothing of the client keeps the event loop alive: a child
 * process that uses the sources and closes them must exit by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeSocketDir, startDevAgent } from '../../support/dev-agent-harness.ts';

const workloadIndex = pathToFileURL(resolve(import.meta.dirname, '..', '..', '..', 'sidecar', 'workload', 'index.ts')).href;

/** Runs `body` in a fresh node process; resolves with its exit code, or 'hung' if it did not exit by itself. */
async function runChild(dir: string, body: string, env: Record<string, string>): Promise<{ code: number | string; stderr: string }> {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import * as w from '${workloadIndex}';\n${body}\n`);
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((res) => child.once('exit', (c, s) => res(c ?? s ?? 'unknown')));
  const hung = new Promise<'hung'>((res) => setTimeout(() => res('hung'), 20_000).unref());
  const code = await Promise.race([exited, hung]);
  if (code === 'hung') {
    child.kill('SIGKILL');
    await exited;
  }
  return { code, stderr };
}

test('X509Source, JwtSource and one-shot calls: the process exits by itself after close()', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const r = await runChild(
    a.dir,
    `
const x = await w.X509Source.create({ address: process.env.ADDR, timeoutMs: 10000 });
if (!x.isReady()) throw new Error('not ready');
const c = new w.WorkloadApiClient({ address: process.env.ADDR });
const j = await w.JwtSource.create({ client: c, timeoutMs: 10000 });
const svid = await j.fetchJwtSvid('aud');
j.validate(svid.token, 'aud');
await c.fetchX509Context();
x.close(); j.close(); c.close();
`,
    { ADDR: a.address() },
  );
  assert.equal(r.code, 0, r.stderr);
});

test('a watch waiting in backoff (agent absent) does not keep the process alive after close()', async (t) => {
  const dir = makeSocketDir(t);
  const r = await runChild(
    dir,
    `
const c = new w.WorkloadApiClient({ address: process.env.ADDR, backoff: { initialMs: 5000, maxMs: 5000 } });
let errors = 0;
c.watchX509Context({ onUpdate() {}, onError() { errors++; } });
while (errors === 0) await new Promise((r) => setTimeout(r, 10));
c.close();
`,
    { ADDR: `unix://${join(dir, 'absent.sock')}` },
  );
  assert.equal(r.code, 0, r.stderr);
});

test('a pending create() keeps the process alive until it settles', async (t) => {
  const dir = makeSocketDir(t);
  const r = await runChild(
    dir,
    `
try {
  await w.X509Source.create({ address: process.env.ADDR, timeoutMs: 800, backoff: { initialMs: 100, maxMs: 100 } });
} catch (e) {
  if (e.code !== 'workload.timeout') throw e;
  process.exitCode = 7;
}
`,
    { ADDR: `unix://${join(dir, 'absent.sock')}` },
  );
  assert.equal(r.code, 7, `create() must settle before the process exits: ${r.stderr}`);
});
