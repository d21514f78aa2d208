import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { CONTEXT_HANDLE_LENGTH, ContextHandleError, ContextHandles, contextHandleProblems } from '../../../sidecar/auth/index.ts';
import { IdentityHeaders } from '../../../sidecar/headers/index.ts';

const store = (o: { maxEntries?: number; maxLifetimeMs?: number } = {}) => {
  const clock = new ManualClock(1_000_000);
  return { clock, handles: new ContextHandles({ clock, ...o }) };
};

test('a handle is 192 random bits in base64url and resolves to its token', () => {
  const { handles } = store();
  const h = handles.issue('tok', 2_000_000)!;
  assert.equal(h.length, CONTEXT_HANDLE_LENGTH);
  assert.match(h, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(handles.resolve(h), 'tok');
});

test('handles are distinct (no reuse of random bytes)', () => {
  const { handles } = store({ maxEntries: 5000 });
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(handles.issue(`t${i}`, 2_000_000)!);
  assert.equal(seen.size, 1000);
});

test('expiry: the earlier of the token exp and maxLifetime', () => {
  const rows = [
    { name: 'token exp first', exp: 1_000_000 + 10_000, lifetime: 60_000, aliveAt: 9_999, deadAt: 10_000 },
    { name: 'maxLifetime first', exp: 1_000_000 + 600_000, lifetime: 60_000, aliveAt: 59_999, deadAt: 60_000 },
  ];
  for (const r of rows) {
    const { clock, handles } = store({ maxLifetimeMs: r.lifetime });
    const h = handles.issue('tok', r.exp)!;
    clock.advance(r.aliveAt);
    assert.equal(handles.resolve(h), 'tok', r.name);
    clock.advance(r.deadAt - r.aliveAt);
    assert.equal(handles.resolve(h), undefined, r.name);
  }
});

test('an already expired token gets no handle', () => {
  const { handles } = store();
  assert.equal(handles.issue('tok', 1_000_000), undefined);
  assert.equal(handles.size, 0);
});

test('bounded: at most maxEntries, the oldest dropped first', () => {
  const { handles } = store({ maxEntries: 3 });
  const hs = ['a', 'b', 'c', 'd'].map((t) => handles.issue(t, 2_000_000)!);
  assert.equal(handles.size, 3);
  assert.equal(handles.resolve(hs[0]!), undefined);
  assert.deepEqual(hs.slice(1).map((h) => handles.resolve(h)), ['b', 'c', 'd']);
});

test('expired entries are swept when issuing', () => {
  const { clock, handles } = store({ maxEntries: 100, maxLifetimeMs: 1000 });
  handles.issue('a', 2_000_000);
  handles.issue('b', 2_000_000);
  clock.advance(1000);
  handles.issue('c', 2_000_000);
  assert.equal(handles.size, 1);
});

test('unknown, malformed and duplicated handle headers resolve to nothing', () => {
  const { handles } = store();
  const h = handles.issue('tok', 2_000_000)!;
  const rows: [string, string[], string | undefined][] = [
    ['the issued handle', ['X-Auth-Context', h], 'tok'],
    ['unknown handle', ['x-auth-context', 'A'.repeat(32)], undefined],
    ['wrong length', ['x-auth-context', `${h}x`], undefined],
    ['two headers', ['x-auth-context', h, 'x-auth-context', h], undefined],
    ['no header', ['authorization', 'Bearer x'], undefined],
  ];
  for (const [name, raw, want] of rows) assert.equal(handles.find(raw), want, name);
});

test('options are checked', () => {
  const rows: [string, Parameters<typeof contextHandleProblems>[0], RegExp][] = [
    ['header not a lowercase name', { header: 'X Auth' }, /^header:/],
    ['header authorization', { header: 'authorization' }, /^header: authorization/],
    ['lifetime too short', { maxLifetimeMs: 10 }, /^maxLifetime:/],
    ['entries zero', { maxEntries: 0 }, /^maxEntries:/],
  ];
  for (const [name, o, re] of rows) {
    const p = contextHandleProblems(o);
    assert.equal(p.length, 1, name);
    assert.match(p[0]!, re, name);
  }
  assert.throws(() => new ContextHandles({ clock: new ManualClock(), maxEntries: -1 }), (e: unknown) => e instanceof ContextHandleError && e.code === 'context_handle.invalid_options');
});

test('identity headers strip a handle the caller or the app sent, both ways', () => {
  const headers = new IdentityHeaders({ contextHandleHeader: 'x-auth-context' });
  const caller = { peerId: 'spiffe://example.org/a', xfcc: 'By=x' };
  const inbound = headers.inbound(['X-Auth-Context', 'forged', 'x_auth_context', 'forged', 'accept', '*/*'], caller as never);
  assert.ok(!inbound.some((n) => n.toLowerCase().replace('_', '-') === 'x-auth-context'));
  assert.deepEqual(headers.outbound(['x-auth-context', 'h', 'accept', '*/*']), ['accept', '*/*']);
  assert.throws(() => new IdentityHeaders({ contextHandleHeader: 'x-client-spiffe-id' }), /both the context handle and an identity header/);
});
