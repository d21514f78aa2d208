/** The token digest cache (introspection verdicts, verified JWTs): expiry by the caller's clock, bounded size, oldest evicted first. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenDigestCache } from '../../../sidecar/auth/token-digest-cache.ts';

test('cache: an entry is served until its expiry and gone at it', () => {
  const c = new TokenDigestCache<string>(10);
  c.set('k', 'v', 1_000, 2_000);
  assert.equal(c.get('k', 1_999), 'v');
  assert.equal(c.get('k', 2_000), undefined);
  assert.equal(c.size, 0, 'an expired entry is removed when read');
});

test('cache: an entry that would expire at once is not stored', () => {
  const c = new TokenDigestCache<string>(10);
  c.set('k', 'v', 1_000, 1_000);
  assert.equal(c.size, 0);
});

test('cache: when full, the oldest insertion is evicted; re-setting a key makes it newest', () => {
  const c = new TokenDigestCache<number>(2);
  c.set('a', 1, 0, 100);
  c.set('b', 2, 0, 100);
  c.set('a', 3, 0, 100);
  c.set('c', 4, 0, 100);
  assert.deepEqual([c.get('a', 1), c.get('b', 1), c.get('c', 1)], [3, undefined, 4]);
  assert.equal(c.size, 2);
});

test('cache: delete forgets one key; a cache of 0 entries stores nothing', () => {
  const c = new TokenDigestCache<string>(10);
  c.set('a', 'x', 0, 100);
  c.set('b', 'y', 0, 100);
  c.delete('a');
  assert.deepEqual([c.get('a', 1), c.get('b', 1)], [undefined, 'y']);
  const off = new TokenDigestCache<string>(0);
  off.set('k', 'v', 0, 100);
  assert.equal(off.size, 0);
});
