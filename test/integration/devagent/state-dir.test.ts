/**
 * The dev agent with a state directory: a restarted agent keeps every trust
 * domain's CA and JWT key (as a restarted SPIRE agent does), an expired CA
 * found there is rotated and saved, rotations while running are saved, and
 * a state file that cannot be used stops the start with an error naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, type Logger } from '../../../sidecar/core/index.ts';
import { DevAgent } from '../../../sidecar/devagent/index.ts';
import { splitDerCertificates } from '../../../sidecar/svid/index.ts';
import { HOUR, T0 } from '../../support/certs.ts';
import { makeSocketDir, startDevAgent } from '../../support/dev-agent-harness.ts';

const trustDomains = [{ name: 'example.org', federatesWith: ['partner.org'] }, { name: 'partner.org' }];
const workloads = { api: ['spiffe://example.org/api'], partner: ['spiffe://partner.org/p'] };

function recordingLogger(lines: Record<string, unknown>[]): Logger {
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug: (o) => lines.push({ ...bindings, ...o }),
    info: (o) => lines.push({ ...bindings, ...o }),
    warn: (o) => lines.push({ ...bindings, ...o }),
    error: (o) => lines.push({ ...bindings, ...o }),
    child: (b) => make({ ...bindings, ...b }),
  });
  return make({});
}

test('a restart on the same state directory keeps every CA and JWT key; without one it does not', async (t) => {
  const dir = makeSocketDir(t);
  const stateDir = join(dir, 'state');
  const lines: Record<string, unknown>[] = [];
  const first = await startDevAgent({ cleanup: t, dir, stateDir, trustDomains, workloads, logger: recordingLogger(lines) });
  const bundles = trustDomains.map((td) => first.agent.bundleDer(td.name));
  const jwks = trustDomains.map((td) => first.agent.jwks(td.name));
  await first.stop();
  assert.deepEqual(lines.filter((l) => l['event'] === 'authority_created').map((l) => l['trust_domain']), ['example.org', 'partner.org']);

  const second = await startDevAgent({ cleanup: t, dir, stateDir, trustDomains, workloads, logger: recordingLogger(lines) });
  for (const [i, td] of trustDomains.entries()) {
    assert.ok(second.agent.bundleDer(td.name).equals(bundles[i]!), `${td.name}: same CA`);
    assert.equal(second.agent.jwks(td.name), jwks[i], `${td.name}: same JWT key`);
  }
  const loaded = lines.filter((l) => l['event'] === 'authority_loaded');
  assert.deepEqual(loaded.map((l) => l['file']), [join(stateDir, 'example.org.authority.json'), join(stateDir, 'partner.org.authority.json')]);
  await second.stop();

  // Never a key in the logs.
  const state = JSON.parse(readFileSync(join(stateDir, 'example.org.authority.json'), 'utf8')) as Record<string, { signingKey: string }>;
  const logged = JSON.stringify(lines);
  for (const key of [state['x509Authority']!.signingKey, state['jwtAuthority']!.signingKey]) assert.ok(!logged.includes(key.slice(0, 40)));

  const inMemory = await startDevAgent({ cleanup: t, dir, trustDomains, workloads });
  assert.ok(!inMemory.agent.bundleDer('example.org').equals(bundles[0]!), 'without a state directory a start is a new CA');
});

test('an expired CA in the state directory is rotated at start and saved', async (t) => {
  const dir = makeSocketDir(t);
  const stateDir = join(dir, 'state');
  const clock = new ManualClock(T0);
  const first = await startDevAgent({ cleanup: t, dir, stateDir, clock, svidTtlMs: HOUR });
  const oldBundle = first.agent.bundleDer('example.org');
  await first.stop();

  clock.advance(25 * HOUR); // past the CA's 24 h lifetime
  const lines: Record<string, unknown>[] = [];
  const second = await startDevAgent({ cleanup: t, dir, stateDir, clock, svidTtlMs: HOUR, logger: recordingLogger(lines) });
  assert.ok(lines.some((l) => l['event'] === 'ca_rotated' && l['reason'] === 'expired_in_state' && l['trust_domain'] === 'example.org'));
  const newBundle = second.agent.bundleDer('example.org');
  assert.ok(!newBundle.equals(oldBundle), 'a new root; the expired one is no longer published');
  await second.stop();

  const third = await startDevAgent({ cleanup: t, dir, stateDir, clock, svidTtlMs: HOUR });
  assert.ok(third.agent.bundleDer('example.org').equals(newBundle), 'the rotated CA was saved');
});

test('a CA rotation while running is saved, the old root with it', async (t) => {
  const dir = makeSocketDir(t);
  const stateDir = join(dir, 'state');
  const first = await startDevAgent({ cleanup: t, dir, stateDir });
  await first.agent.rotateCa('example.org');
  const rotated = first.agent.bundleDer('example.org');
  await first.stop();
  const second = await startDevAgent({ cleanup: t, dir, stateDir });
  assert.ok(second.agent.bundleDer('example.org').equals(rotated));
  assert.equal(splitDerCertificates(rotated).length, 2, 'the old root is still published next to the new one');
});

test('a corrupt state file stops the start with devagent.bad_state naming it, and stays as it was', async (t) => {
  const dir = makeSocketDir(t);
  const stateDir = join(dir, 'state');
  const first = await startDevAgent({ cleanup: t, dir, stateDir });
  await first.stop();
  const file = join(stateDir, 'example.org.authority.json');
  writeFileSync(file, '{"version": 1, "trustDomain": "example.org"', { mode: 0o600 });
  await assert.rejects(startDevAgent({ dir, stateDir }), (err: unknown) => {
    const e = err as { code?: string; message: string };
    assert.equal(e.code, 'devagent.bad_state');
    assert.ok(e.message.includes(file), e.message);
    return true;
  });
  assert.equal(readFileSync(file, 'utf8'), '{"version": 1, "trustDomain": "example.org"');
  assert.equal(existsSync(first.socketPath()), false, 'no socket is served');
});

test('a relative stateDir is a devagent.bad_config', async () => {
  await assert.rejects(
    DevAgent.start({ trustDomains: [{ name: 'example.org' }], workloads: [{ socketPath: '/tmp/x.sock', ids: ['spiffe://example.org/x'] }], svidTtlMs: 60_000, stateDir: 'state' }),
    (err: unknown) => (err as { code?: string }).code === 'devagent.bad_config' && /stateDir: must be an absolute path/.test((err as Error).message),
  );
});
