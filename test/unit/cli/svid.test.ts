/**
 * `spiffe-sidecar svid` run in-process with a fake CliIo against an
 * in-process dev agent: output formats, files, errors and flag checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../sidecar/cli/io.ts';
import { failureText, svidCommand } from '../../../sidecar/cli/svid.ts';
import { statusError } from '../../../sidecar/workload/index.ts';
import { parseX509SvidPem } from '../../../sidecar/svid/index.ts';
import { makeSocketDir, startDevAgent } from '../../support/dev-agent-harness.ts';
import { fakeIo } from './fake-io.ts';

test('--json prints exactly the documented shape', async (t) => {
  const a = await startDevAgent({
    cleanup: t,
    trustDomains: [{ name: 'example.org', federatesWith: ['partner.org'] }, { name: 'partner.org' }],
    workloads: { w: { ids: ['spiffe://example.org/w', 'spiffe://example.org/v'], hints: ['', 'internal'] } },
  });
  const io = fakeIo();
  assert.equal(await svidCommand(['--socket', a.address(), '--json'], io), 0, io.err());
  const doc = JSON.parse(io.out()) as { svids: Record<string, unknown>[]; bundles: Record<string, number> };
  assert.deepEqual(Object.keys(doc), ['svids', 'bundles']);
  assert.equal(doc.svids.length, 2);
  for (const s of doc.svids) {
    assert.deepEqual(Object.keys(s), ['spiffeId', 'notBefore', 'notAfter', 'hint']);
    assert.equal(new Date(s['notBefore'] as string).toISOString(), s['notBefore']);
    assert.equal(new Date(s['notAfter'] as string).toISOString(), s['notAfter']);
  }
  assert.equal(doc.svids[0]!['spiffeId'], 'spiffe://example.org/w');
  assert.equal(doc.svids[1]!['hint'], 'internal');
  assert.deepEqual(doc.bundles, { 'example.org': 1, 'partner.org': 1 });
});

test('text output follows spire-agent api fetch x509', async (t) => {
  const a = await startDevAgent({ cleanup: t, workloads: { w: { ids: ['spiffe://example.org/w'], hints: ['internal'] } } });
  const io = fakeIo({ SPIFFE_ENDPOINT_SOCKET: a.address() });
  assert.equal(await svidCommand([], io), 0, io.err());
  const text = io.out();
  assert.match(text, /^Received 1 svid\(s\) after \d+ms\n/);
  assert.match(text, /\nSPIFFE ID:\t\tspiffe:\/\/example.org\/w\n/);
  assert.match(text, /\nHint:\t\t\tinternal\n/);
  assert.match(text, /\nSVID Valid After:\t\d{4}-\d\d-\d\dT/);
  assert.match(text, /\nSVID Valid Until:\t\d{4}-\d\d-\d\dT/);
  assert.match(text, /\nChain length:\t\t1\n/);
  assert.match(text, /\nCA #1 Valid After:\t/);
  assert.match(text, /\nBundle trust domains:\texample.org\n/);
  assert.doesNotMatch(text, /PRIVATE KEY/);
});

test('--write: svid.pem, bundle.pem and svid_key.pem (0600), replacing older files', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const out = join(makeSocketDir(t), 'out');
  for (let round = 0; round < 2; round++) {
    const io = fakeIo();
    assert.equal(await svidCommand(['--socket', a.address(), '--write', out], io), 0, io.err());
  }
  assert.equal(statSync(join(out, 'svid_key.pem')).mode & 0o777, 0o600);
  const svid = parseX509SvidPem(readFileSync(join(out, 'svid.pem'), 'utf8'), readFileSync(join(out, 'svid_key.pem'), 'utf8'));
  assert.equal(svid.id.toString(), 'spiffe://example.org/workload');
  assert.match(readFileSync(join(out, 'bundle.pem'), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
});

test('PermissionDenied: exit 1 with the status name and the agent message', async (t) => {
  const a = await startDevAgent({ cleanup: t, workloads: { nobody: [] } });
  const io = fakeIo();
  assert.equal(await svidCommand(['--socket', a.address()], io), 1);
  assert.match(io.err(), /PermissionDenied: no identity issued/);
  assert.equal(io.out(), '');
});

test('missing socket: exit 1, one line naming the address and the reason, no grpc-js wording', async (t) => {
  const io = fakeIo();
  const address = `unix://${join(makeSocketDir(t), 'none.sock')}`;
  assert.equal(await svidCommand(['--socket', address, '--timeout', '2s'], io), 1);
  assert.equal(io.err(), `spiffe-sidecar svid: cannot reach the Workload API at ${address}: no socket at that path (is the agent running, and is the path right?)\n`);
});

test('failureText: one row per way the Workload API call fails', () => {
  const unavailable = (details: string) => statusError('FetchX509SVID', { code: 14, details });
  const rows: Array<[unknown, string]> = [
    [unavailable('No connection established. Last error: Error: connect ENOENT /x.sock. Resolution note: '), 'cannot reach the Workload API at A: no socket at that path (is the agent running, and is the path right?)'],
    [unavailable('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: '), 'cannot reach the Workload API at A: connection refused (nothing is listening there)'],
    [unavailable('No connection established. Last error: Error: connect EACCES /x.sock. Resolution note: '), 'cannot reach the Workload API at A: permission denied (check the socket file and its directory)'],
    [unavailable('No connection established. Last error: Error: connect EWHATEVER /x. Resolution note: '), 'cannot reach the Workload API at A: EWHATEVER'],
    [unavailable('Connection dropped'), 'cannot reach the Workload API at A: the agent is unavailable'],
    [statusError('FetchX509SVID', { code: 7, details: 'no identity issued' }), 'PermissionDenied: no identity issued'],
    [statusError('FetchX509SVID', { code: 7, details: 'evil \u001b[2J' }), 'PermissionDenied: evil \\u001b[2J'],
  ];
  for (const [err, want] of rows) {
    const text = failureText(err, 'A');
    assert.equal(text, want);
    assert.doesNotMatch(text, /Resolution note|Last error/);
  }
});

test('no socket configured: exit 1 naming SPIFFE_ENDPOINT_SOCKET', async () => {
  const io = fakeIo({});
  assert.equal(await svidCommand([], io), 1);
  assert.match(io.err(), /SPIFFE_ENDPOINT_SOCKET/);
});

for (const [args, flag] of [
  [['--socket', 'unix://host/agent.sock'], '--socket'],
  [['--timeout', '5'], '--timeout'],
  [['--timeout', 'soon'], '--timeout'],
  [['--bogus'], '--bogus'],
  [['positional'], 'positional'],
] as const) {
  test(`bad usage ${args.join(' ')} → UsageError naming ${flag}`, async () => {
    await assert.rejects(svidCommand(args, fakeIo()), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.ok(err.message.includes(flag), err.message);
      return true;
    });
  });
}

test('--help prints usage and exits 0', async () => {
  const io = fakeIo();
  assert.equal(await svidCommand(['--help'], io), 0);
  assert.match(io.out(), /usage: spiffe-sidecar svid/);
});
