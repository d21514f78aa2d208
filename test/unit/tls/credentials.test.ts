/**
 * The credentials home: what update() publishes, what readers see before,
 * between and after publications, the change event (bounded, isolated from
 * throwing listeners) and the option checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, type Logger } from '../../../sidecar/core/index.ts';
import { Credentials, CredentialsError } from '../../../sidecar/tls/index.ts';
import { MutableSource, bundleSetOf, makeCa, makeLeaf, svidOf } from '../../support/tls-pki.ts';

const caA = await makeCa('a.test');
const caB = await makeCa('b.test');
const svid1 = svidOf(await makeLeaf(caA, 'spiffe://a.test/me'));
const svid2 = svidOf(await makeLeaf(caA, 'spiffe://a.test/me'));

/** A source whose SVID can be withdrawn (getX509Svid then throws, as X509Source does). */
class WithdrawableSource extends MutableSource {
  withdrawn: Error | undefined;
  override getX509Svid() {
    if (this.withdrawn) throw this.withdrawn;
    return super.getX509Svid();
  }
}

function home(src: MutableSource, extra: { maxListeners?: number; logger?: Logger } = {}): Credentials {
  return new Credentials({ svidSource: src, bundleSource: src, ...extra });
}

test('nothing is read or published before update(); readers throw why', () => {
  const src = new WithdrawableSource(svid1, bundleSetOf(caA));
  const why = new Error('no X509-SVID yet');
  src.withdrawn = why;
  const c = home(src);
  assert.equal(c.available, false);
  assert.equal(c.generation(), 0);
  assert.equal(c.update(), false, 'a source without an SVID publishes nothing');
  assert.throws(() => c.getX509Svid(), why);
  assert.throws(() => c.secureContext(), why);
  assert.equal(c.bundles(), src.bundles(), 'bundles come from the source until a snapshot exists');
});

test('update() publishes a new SVID or bundle set once; same objects publish nothing', () => {
  const src = new MutableSource(svid1, bundleSetOf(caA));
  const c = home(src);
  assert.equal(c.update(), true);
  const first = c.snapshot();
  const ctx = c.secureContext();
  assert.equal(c.getX509Svid(), svid1);
  assert.equal(c.update(), false, 'unchanged sources');
  assert.equal(c.secureContext(), ctx, 'one context per publication');
  src.setSvid(svid2);
  assert.equal(c.getX509Svid(), svid1, 'readers see the published SVID until update() runs');
  assert.equal(c.update(), true);
  assert.equal(c.getX509Svid(), svid2);
  assert.notEqual(c.secureContext(), ctx);
  src.setBundles(bundleSetOf(caA, caB));
  assert.equal(c.update(), true);
  assert.equal(c.bundles(), src.bundles());
  assert.equal(c.generation(), 3);
  assert.ok(c.snapshot().generation > first.generation);
});

test('a withdrawal is published: readers throw, listeners hear it, the next SVID is published again', () => {
  const src = new WithdrawableSource(svid1, bundleSetOf(caA));
  const c = home(src);
  c.update();
  let heard = 0;
  c.onCredentialsChange(() => heard++);
  src.withdrawn = new Error('no identity issued');
  assert.equal(c.update(), true);
  assert.equal(c.available, false);
  assert.throws(() => c.getX509Svid(), /no identity issued/);
  src.withdrawn = undefined;
  assert.equal(c.update(), true, 'the same SVID again after a withdrawal is a change');
  assert.equal(c.getX509Svid(), svid1);
  assert.equal(heard, 2);
});

test('listeners: every one runs after each publication; a throwing one is logged and the rest still run', () => {
  const src = new MutableSource(svid1, bundleSetOf(caA));
  const logged: string[] = [];
  const logger: Logger = { ...silentLogger, error: (_o, msg) => logged.push(msg ?? ''), child: () => logger };
  const c = home(src, { logger });
  const calls: string[] = [];
  c.onCredentialsChange(() => {
    calls.push('a');
    throw new Error('listener bug');
  });
  const off = c.onCredentialsChange(() => calls.push(`b:${c.getX509Svid() === svid1 ? 1 : 2}`));
  assert.doesNotThrow(() => c.update());
  src.setSvid(svid2);
  off();
  c.update();
  assert.deepEqual(calls, ['a', 'b:1', 'a']);
  assert.deepEqual(logged, ['a credentials change listener threw', 'a credentials change listener threw']);
});

test('listeners are bounded: one more than maxListeners is refused; removing one makes room', () => {
  const c = home(new MutableSource(svid1, bundleSetOf(caA)), { maxListeners: 2 });
  c.onCredentialsChange(() => {});
  const off = c.onCredentialsChange(() => {});
  assert.throws(() => c.onCredentialsChange(() => {}), (e: unknown) => e instanceof CredentialsError && e.code === 'tls.credentials_too_many_listeners');
  off();
  assert.doesNotThrow(() => c.onCredentialsChange(() => {}));
  assert.equal(c.listenerCount, 2);
});

const badOptions: { name: string; maxListeners: number }[] = [
  { name: 'zero', maxListeners: 0 },
  { name: 'negative', maxListeners: -1 },
  { name: 'fractional', maxListeners: 1.5 },
  { name: 'NaN', maxListeners: Number.NaN },
];
for (const row of badOptions) {
  test(`maxListeners ${row.name} → tls.credentials_bad_option`, () => {
    assert.throws(() => home(new MutableSource(svid1, bundleSetOf(caA)), { maxListeners: row.maxListeners }), { code: 'tls.credentials_bad_option' });
  });
}

test('a home read before its first update() → tls.credentials_unpublished', () => {
  const c = home(new MutableSource(svid1, bundleSetOf(caA)));
  assert.throws(() => c.snapshot(), { code: 'tls.credentials_unpublished' });
});
