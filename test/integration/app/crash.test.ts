/**
 * A throw nobody catches inside a running sidecar is a bug: the CLI logs it
 * at fatal (with the message) and exits 1 instead of limping on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, tempDir } from '../../support/sidecar-harness.ts';

for (const kind of ['exception', 'rejection'] as const) {
  test(`uncaught ${kind}: logged at fatal, exit 1`, async (t) => {
    const dir = tempDir(t);
    const [admin] = (await freePorts(1)) as [number];
    const configPath = join(dir, 'sidecar.yaml');
    writeFileSync(configPath, `spiffe:\n  endpointSocket: unix://${dir}/agent.sock\nadmin:\n  listen: 127.0.0.1:${admin}\n`);
    const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', join(import.meta.dirname, 'crash-fixture.ts'), configPath, kind], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const fatal = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['level'] === 'fatal');
    assert.ok(fatal, r.stdout);
    assert.equal(fatal['kind'], kind === 'exception' ? 'uncaughtException' : 'unhandledRejection');
    assert.match(String(fatal['err']), /^boom: /);
  });
}
