/**
 * `spiffe-sidecar demo --once` end to end: the dev agent, three real
 * sidecar processes and the scripted checks; exit 0 only if every check
 * passed. A short SVID TTL keeps the wait for the rotation short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runCli } from '../../support/sidecar-process.ts';

test('demo --once: allowed call, 403 for the intruder, spoof replaced, rotation; exit 0 and nothing left behind', async () => {
  const r = await runCli(['demo', '--once', '--svid-ttl', '6s'], { timeoutMs: 50_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = r.stdout;
  assert.match(out, /ok +allowed: 200 from the backend/);
  assert.match(out, /ok +backend saw x-client-spiffe-id: spiffe:\/\/example\.org\/frontend$/m);
  assert.match(out, /ok +backend saw x-forwarded-client-cert: By=spiffe:\/\/example\.org\/backend;Hash=[0-9a-f]+\.\.\.;URI=spiffe:\/\/example\.org\/frontend/);
  assert.match(out, /ok +denied: 403 forbidden: caller is not allowed by the inbound policy/);
  assert.match(out, /ok +backend saw x-client-spiffe-id: spiffe:\/\/example\.org\/frontend: the spoofed value was replaced/);
  assert.match(out, /ok +backend SVID serial [0-9A-F]+\.\.\. -> [0-9A-F]+\.\.\./);
  assert.match(out, /all \d+ checks passed\./);
  assert.doesNotMatch(out, /FAILED/);
  const dir = /Working directory (\S+)\./.exec(out)?.[1];
  assert.ok(dir, 'the report names its working directory');
  assert.equal(existsSync(dir), false, 'the working directory is removed');
});

test('demo --help and a bad flag', async () => {
  const help = await runCli(['demo', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--once/);
  const bad = await runCli(['demo', '--svid-ttl', '1s']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--svid-ttl 1s: must be at least 4s/);
});
