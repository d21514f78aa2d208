import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { AuthorityStore, CertificateAuthority, DevAgentError, JwtAuthority, type AuthorityLoadOptions } from '../../../sidecar/devagent/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { HOUR, T0 } from '../../support/certs.ts';

const TD = TrustDomain.parse('example.org');

function tempDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'authority-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function loadOptions(clock: ManualClock, extra: Partial<AuthorityLoadOptions['ca']> = {}): AuthorityLoadOptions {
  return { ca: { trustDomain: TD, clock, ...extra }, jwtKeyType: 'ec-p256' };
}

async function authorities(clock: ManualClock) {
  return { ca: await CertificateAuthority.create({ trustDomain: TD, clock }), jwt: JwtAuthority.generate(TD) };
}

function badState(file: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof DevAgentError, String(err));
    assert.equal(err.code, 'devagent.bad_state');
    assert.ok(err.message.includes(file), `${err.message} should name ${file}`);
    assert.match(err.message, message);
    return true;
  };
}

test('round trip: a saved trust domain loads back with the same CA and JWT key; dir 0700, file 0600', async (t) => {
  const clock = new ManualClock(T0);
  const dir = join(tempDir(t), 'state', 'nested');
  const store = await AuthorityStore.open(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(await store.load(TD, loadOptions(clock)), undefined, 'no file yet');
  const saved = await authorities(clock);
  await store.save(saved);
  const file = store.fileOf(TD);
  assert.equal(file, join(dir, 'example.org.authority.json'));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['example.org.authority.json'], 'no temporary file left behind');
  const loaded = await store.load(TD, loadOptions(clock));
  assert.ok(loaded);
  assert.ok(loaded.ca.bundleDer().equals(saved.ca.bundleDer()));
  assert.equal(loaded.jwt.jwks(), saved.jwt.jwks());

  // A rotation saved over it keeps the old root next to the new one, still 0600.
  clock.advance(HOUR);
  await loaded.ca.rotate();
  await store.save(loaded);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = await (await AuthorityStore.open(dir)).load(TD, loadOptions(clock));
  assert.equal(again?.ca.bundle().authorities.length, 2);
  assert.ok(again?.ca.bundleDer().equals(loaded.ca.bundleDer()));
});

test('the file is 0600 whatever the umask', async (t) => {
  const clock = new ManualClock(T0);
  const previous = process.umask(0o000);
  t.after(() => process.umask(previous));
  const store = await AuthorityStore.open(join(tempDir(t), 'state'));
  await store.save(await authorities(clock));
  assert.equal(statSync(store.fileOf(TD)).mode & 0o777, 0o600);
  assert.equal(statSync(store.dir).mode & 0o777, 0o700);
});

test('a corrupt or mismatched state file is an error naming it, and it is left as it was', async (t) => {
  const clock = new ManualClock(T0);
  const store = await AuthorityStore.open(join(tempDir(t), 'state'));
  await store.save(await authorities(clock));
  const file = store.fileOf(TD);
  const good = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const edit = (f: (doc: Record<string, Record<string, unknown>>) => void): string => {
    const doc = structuredClone(good);
    f(doc);
    return JSON.stringify(doc);
  };
  const otherKey = (await CertificateAuthority.create({ trustDomain: TD, clock })).exportState().signingKeyPkcs8Der.toString('base64');
  const rows: { name: string; text: string; opts?: AuthorityLoadOptions; message: RegExp }[] = [
    { name: 'not JSON', text: '{"version": 1,', message: /is not valid JSON/ },
    { name: 'not an object', text: '[]', message: /the document is not an object/ },
    { name: 'another version', text: edit((d) => ((d as Record<string, unknown>)['version'] = 2)), message: /has version 2; this agent reads version 1/ },
    { name: 'another trust domain', text: edit((d) => ((d as Record<string, unknown>)['trustDomain'] = 'other.org')), message: /is for trust domain "other\.org", not example\.org/ },
    { name: 'no x509Authority', text: edit((d) => delete d['x509Authority']), message: /x509Authority is not an object/ },
    { name: 'no roots', text: edit((d) => (d['x509Authority']!['roots'] = [])), message: /x509Authority\.roots is not a non-empty list/ },
    { name: 'root not base64', text: edit((d) => (d['x509Authority']!['roots'] = ['***'])), message: /x509Authority\.roots\[0\] is not base64/ },
    { name: 'root truncated', text: edit((d) => (d['x509Authority']!['roots'] = ['AAAA'])), message: /cannot be used: ca: saved state of example\.org: root 0 is not a certificate/ },
    { name: 'CA key of another CA', text: edit((d) => (d['x509Authority']!['signingKey'] = otherKey)), message: /does not belong to the signing CA certificate/ },
    { name: 'no JWT key', text: edit((d) => delete d['jwtAuthority']!['signingKey']), message: /jwtAuthority\.signingKey is not base64/ },
    { name: 'JWT key ID missing', text: edit((d) => delete d['jwtAuthority']!['kid']), message: /cannot be used: jwtauthority: .*key ID/ },
    { name: 'key type differs from the configuration', text: JSON.stringify(good), opts: loadOptions(clock, { keyType: 'ec-p384' }), message: /the CA key is ec-p256, but the key type is ec-p384/ },
    { name: 'intermediate mode differs', text: JSON.stringify(good), opts: loadOptions(clock, { intermediate: true }), message: /has no intermediate CA/ },
  ];
  for (const row of rows) {
    writeFileSync(file, row.text, { mode: 0o600 });
    await assert.rejects(store.load(TD, row.opts ?? loadOptions(clock)), badState(file, row.message), row.name);
    assert.equal(readFileSync(file, 'utf8'), row.text, `${row.name}: the file is not replaced`);
  }
});

test('a state file readable by others, a symbolic link or not a regular file is refused', async (t) => {
  const clock = new ManualClock(T0);
  const base = tempDir(t);
  const store = await AuthorityStore.open(join(base, 'state'));
  await store.save(await authorities(clock));
  const file = store.fileOf(TD);
  chmodSync(file, 0o644);
  await assert.rejects(store.load(TD, loadOptions(clock)), badState(file, /has mode 0644.*chmod 600/));
  chmodSync(file, 0o600);
  const moved = join(base, 'elsewhere.json');
  writeFileSync(moved, readFileSync(file), { mode: 0o600 });
  rmSync(file);
  symlinkSync(moved, file);
  await assert.rejects(store.load(TD, loadOptions(clock)), badState(file, /is a symbolic link/));
  rmSync(file);
  mkdirSync(file);
  await assert.rejects(store.load(TD, loadOptions(clock)), badState(file, /is not a regular file/));
});

test('a state directory others may write, or that is not a directory, is refused', async (t) => {
  const base = tempDir(t);
  const open = join(base, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  await assert.rejects(AuthorityStore.open(open), badState(open, /writable by group or others \(mode 0777\)/));
  const plain = join(base, 'plain');
  writeFileSync(plain, '');
  await assert.rejects(AuthorityStore.open(plain), (err: unknown) => err instanceof DevAgentError && err.code === 'devagent.state_unwritable' && err.message.includes(plain));
  // An existing private directory is used as it is.
  const mine = join(base, 'mine');
  mkdirSync(mine, { mode: 0o755 });
  assert.equal((await AuthorityStore.open(mine)).dir, mine);
});
