import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inspectCommand } from '../../../sidecar/cli/inspect.ts';
import { UsageError, type CliIo } from '../../../sidecar/cli/io.ts';
import { INSPECT_AT as AT, INSPECT_ID as ID, writeInspectFiles } from '../../support/inspect-files.ts';

let dir: string;
const f = (name: string) => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'inspect-'));
  writeInspectFiles(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = collector();
  const err = collector();
  const io: CliIo = { stdout: out.stream, stderr: err.stream, env: {}, stopSignal: new AbortController().signal };
  const code = await inspectCommand(args, io);
  return { code, stdout: out.text(), stderr: err.text() };
}

const rows: Array<{ name: string; args: () => string[]; code: number; out?: RegExp; err?: RegExp }> = [
  { name: 'valid with a bare --bundle', args: () => ['--bundle', f('bundle.pem'), '--at', AT, f('chain.pem')], code: 0, out: /^spiffe:\/\/example\.org\/workload\n[\s\S]*verified: against bundle of "example\.org" \(1 authorities\) at 2030-01-01T00:00:00\.000Z, path length 3/ },
  { name: 'valid with TD=FILE among others', args: () => ['--bundle', `other.org=${f('other.pem')}`, '--bundle', `spiffe://example.org=${f('bundle.pem')}`, '--at', AT, f('chain.pem')], code: 0, out: /verified/ },
  { name: 'parse only without bundles', args: () => [f('chain.pem')], code: 0, out: /^spiffe:\/\/example\.org\/workload\n[\s\S]*dns names: web\.local\n  not verified: no --bundle given\n$/ },
  { name: 'expired at a later time', args: () => ['--bundle', f('bundle.pem'), '--at', '2030-01-02T00:00:00Z', f('chain.pem')], code: 1, err: /verification failed: x509svid\.expired: x509svid: leaf certificate expired at 2030-01-01T01:00:00\.000Z/ },
  { name: 'not yet valid at an earlier time', args: () => ['--bundle', f('bundle.pem'), '--at', '2029-12-31T23:00:00+00:00', f('chain.pem')], code: 1, err: /x509svid\.not_yet_valid/ },
  { name: 'leaf rule broken', args: () => [f('ca-leaf.pem')], code: 1, err: /invalid X509-SVID: x509svid\.leaf_is_ca: / },
  { name: 'wrong trust domain bundle', args: () => ['--bundle', `other.org=${f('other.pem')}`, '--at', AT, f('chain.pem')], code: 1, err: /x509svid\.no_bundle/ },
  { name: 'bare bundle that is not the authority', args: () => ['--bundle', f('other.pem'), '--at', AT, f('chain.pem')], code: 1, err: /x509svid\.unknown_authority/ },
  { name: 'unreadable chain file', args: () => [f('missing.pem')], code: 1, err: /missing\.pem: cannot read file: ENOENT/ },
  { name: 'bad PEM chain', args: () => [f('bad.pem')], code: 1, err: /bad\.pem: certificate\.malformed: certificate: PEM block 0 is not valid base64/ },
  { name: 'no certificates in chain file', args: () => [f('empty.pem')], code: 1, err: /empty\.pem: no CERTIFICATE blocks found/ },
  { name: 'bad PEM bundle', args: () => ['--bundle', f('bad.pem'), f('chain.pem')], code: 1, err: /bad\.pem: x509bundle\.malformed/ },
  { name: 'help', args: () => ['--help'], code: 0, out: /^usage: spiffe-sidecar inspect/ },
];

for (const row of rows) {
  test(`inspect: ${row.name} → exit ${row.code}`, async () => {
    const r = await run(row.args());
    assert.equal(r.code, row.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    if (row.out) assert.match(r.stdout, row.out);
    if (row.err) assert.match(r.stderr, row.err);
    if (row.code !== 0) assert.equal(r.stdout, '');
  });
}

test('inspect: bad usage throws UsageError naming the flag', async () => {
  const usage: Array<[string[], RegExp]> = [
    [[], /exactly one CHAIN\.pem/],
    [['a.pem', 'b.pem'], /exactly one CHAIN\.pem/],
    [['--at', 'yesterday', 'a.pem'], /^--at: "yesterday" is not an ISO 8601 time/],
    [['--at', '2030-01-01T00:00:00', 'a.pem'], /^--at: .* with a zone/],
    [['--at', '2030-02-31T00:00:00Z', 'a.pem'], /^--at: /],
    [['--bundle', 'example.org=', 'a.pem'], /missing file after '='/],
    [['--frobnicate', 'a.pem'], /^unknown option --frobnicate$/],
  ];
  for (const [args, message] of usage) {
    await assert.rejects(run(args), (err: unknown) => err instanceof UsageError && message.test(err.message), args.join(' '));
  }
});
