/**
 * The RFC 7662 §2.2 response parser (one row per rule; a broken response is
 * the server misbehaving → 'introspection.unavailable') and the sidecar's own
 * judgement of an active response (expiry, nbf, issuer, audience, cache TTL)
 * against a ManualClock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { errorCode } from '../../../sidecar/core/index.ts';
import {
  judgeIntrospection,
  parseIntrospectionResponse,
  thumbprintHex,
  type ActiveIntrospection,
  type IntrospectionJudgeContext,
} from '../../../sidecar/auth/introspection-response.ts';

const X5T = 'x'.repeat(43);

const malformed: readonly { rule: string; doc: unknown; detail: RegExp }[] = [
  { rule: 'the response is a JSON object (not an array)', doc: [{ active: true }], detail: /not a JSON object/ },
  { rule: 'the response is a JSON object (not null)', doc: null, detail: /not a JSON object/ },
  { rule: 'the response is a JSON object (not a string)', doc: 'active', detail: /not a JSON object/ },
  { rule: '"active" is required', doc: { scope: 'read' }, detail: /"active" is missing/ },
  { rule: '"active" is a boolean, not the string "true"', doc: { active: 'true' }, detail: /"active" is missing or not a boolean/ },
  { rule: '"active" is a boolean, not 1', doc: { active: 1 }, detail: /"active"/ },
  { rule: '"scope" is a string', doc: { active: true, scope: ['read'] }, detail: /"scope"/ },
  { rule: '"client_id" is a string', doc: { active: true, client_id: 7 }, detail: /"client_id"/ },
  { rule: '"username" is a string', doc: { active: true, username: {} }, detail: /"username"/ },
  { rule: '"token_type" is a string', doc: { active: true, token_type: true }, detail: /"token_type"/ },
  { rule: '"sub" is a string', doc: { active: true, sub: 42 }, detail: /"sub"/ },
  { rule: '"iss" is a string', doc: { active: true, iss: ['a'] }, detail: /"iss"/ },
  { rule: '"jti" is a string', doc: { active: true, jti: 1 }, detail: /"jti"/ },
  { rule: '"exp" is a number', doc: { active: true, exp: '1700000000' }, detail: /"exp" is not a NumericDate/ },
  { rule: '"exp" is finite', doc: JSON.parse('{"active":true,"exp":1e400}'), detail: /"exp" is not a NumericDate/ },
  { rule: '"exp" is not negative', doc: { active: true, exp: -1 }, detail: /"exp"/ },
  { rule: '"iat" is a number', doc: { active: true, iat: null }, detail: /"iat"/ },
  { rule: '"nbf" is a number', doc: { active: true, nbf: false }, detail: /"nbf"/ },
  { rule: '"aud" is a string or a list of strings (not a number)', doc: { active: true, aud: 3 }, detail: /"aud"/ },
  { rule: '"aud" lists only strings', doc: { active: true, aud: ['a', 2] }, detail: /"aud"/ },
  { rule: '"cnf" is a JSON object', doc: { active: true, cnf: 'x5t' }, detail: /"cnf" is not a JSON object/ },
  { rule: '"cnf"."x5t#S256" is a base64url SHA-256 digest (length)', doc: { active: true, cnf: { 'x5t#S256': 'abc' } }, detail: /x5t#S256/ },
  { rule: '"cnf"."x5t#S256" is base64url (alphabet)', doc: { active: true, cnf: { 'x5t#S256': '+'.repeat(43) } }, detail: /x5t#S256/ },
  { rule: '"cnf"."x5t#S256" is a string', doc: { active: true, cnf: { 'x5t#S256': 5 } }, detail: /x5t#S256/ },
];

for (const row of malformed) {
  test(`RFC 7662 §2.2: ${row.rule}`, () => {
    assert.throws(
      () => parseIntrospectionResponse(row.doc),
      (err: unknown) => errorCode(err) === 'introspection.unavailable' && row.detail.test((err as Error).message),
    );
  });
}

test('RFC 7662 §2.2: an inactive response drops every other member', () => {
  const p = parseIntrospectionResponse({ active: false, sub: 'alice', scope: 'admin', exp: 'garbage' });
  assert.deepEqual(p, { active: false });
});

test('members are read into typed fields; scope splits on spaces; aud string becomes a list', () => {
  const p = parseIntrospectionResponse({
    active: true,
    scope: 'read  write',
    client_id: 'app',
    sub: 'alice',
    iss: 'https://as.example',
    aud: 'https://api.example',
    exp: 2000,
    nbf: 1000,
    iat: 1000,
    cnf: { 'x5t#S256': X5T },
    customer: { id: 'c-1' },
  }) as ActiveIntrospection;
  assert.deepEqual(p.scopes, ['read', 'write']);
  assert.deepEqual([p.clientId, p.subject, p.issuer, p.exp, p.nbf, p.iat, p.certThumbprint], ['app', 'alice', 'https://as.example', 2000, 1000, 1000, X5T]);
  assert.deepEqual(p.audiences, ['https://api.example']);
  assert.deepEqual((parseIntrospectionResponse({ active: true, aud: ['a', 'b'] }) as ActiveIntrospection).audiences, ['a', 'b']);
  assert.ok(Object.isFrozen(p.claims) && Object.isFrozen(p.claims['customer']), 'claims are deeply frozen');
});

test('a minimal active response has no scopes, audiences or binding', () => {
  const p = parseIntrospectionResponse({ active: true }) as ActiveIntrospection;
  assert.deepEqual([p.scopes, p.audiences, p.certThumbprint, p.exp], [[], [], undefined, undefined]);
  assert.equal((parseIntrospectionResponse({ active: true, cnf: {} }) as ActiveIntrospection).certThumbprint, undefined);
});

const NOW = 1_700_000_000_000;
const clock = new ManualClock(NOW);
const ctx = (over: Partial<IntrospectionJudgeContext> = {}): IntrospectionJudgeContext => ({
  provider: 'p',
  now: clock.now(),
  clockSkewMs: 60_000,
  cacheMaxTtlMs: 60_000,
  issuer: undefined,
  audiences: undefined,
  ...over,
});
const active = (doc: Record<string, unknown>) => parseIntrospectionResponse({ active: true, ...doc });
const sec = (ms: number): number => ms / 1000;

const refusals: readonly { rule: string; doc: unknown; ctx?: Partial<IntrospectionJudgeContext>; reason: string }[] = [
  { rule: 'active:false is refused as inactive', doc: { active: false }, reason: 'inactive' },
  { rule: 'an "exp" past the skew is refused even though active', doc: { active: true, exp: sec(NOW - 60_001) }, reason: 'expired' },
  { rule: 'an "exp" exactly at now minus skew is expired', doc: { active: true, exp: sec(NOW - 60_000) }, reason: 'expired' },
  { rule: 'an "nbf" beyond the skew in the future is refused', doc: { active: true, nbf: sec(NOW + 61_000) }, reason: 'not_yet_valid' },
  { rule: 'a configured issuer must equal "iss"', doc: { active: true, iss: 'https://evil.example' }, ctx: { issuer: 'https://as.example' }, reason: 'unknown_issuer' },
  { rule: 'a configured issuer requires "iss"', doc: { active: true }, ctx: { issuer: 'https://as.example' }, reason: 'unknown_issuer' },
  { rule: 'configured audiences must intersect "aud"', doc: { active: true, aud: ['https://other.example'] }, ctx: { audiences: new Set(['https://api.example']) }, reason: 'wrong_audience' },
  { rule: 'configured audiences require "aud"', doc: { active: true }, ctx: { audiences: new Set(['https://api.example']) }, reason: 'wrong_audience' },
];

for (const row of refusals) {
  test(`judge: ${row.rule}`, () => {
    const j = judgeIntrospection(parseIntrospectionResponse(row.doc), ctx(row.ctx));
    assert.equal(j.kind, 'invalid');
    assert.equal(j.kind === 'invalid' && j.outcome.reason, row.reason);
    assert.equal(j.kind === 'invalid' && j.outcome.provider, 'p');
  });
}

const accepted: readonly { rule: string; doc: Record<string, unknown>; ctx?: Partial<IntrospectionJudgeContext>; ttlMs: number; expiresAtMs: number }[] = [
  { rule: 'exp far ahead: reused for cacheMaxTtl', doc: { exp: sec(NOW + 3_600_000) }, ttlMs: 60_000, expiresAtMs: NOW + 3_600_000 },
  { rule: 'exp sooner than cacheMaxTtl: reused until exp', doc: { exp: sec(NOW + 10_000) }, ttlMs: 10_000, expiresAtMs: NOW + 10_000 },
  { rule: 'no exp: reused for cacheMaxTtl only, and that is the reported expiry', doc: {}, ttlMs: 60_000, expiresAtMs: NOW + 60_000 },
  { rule: 'exp just past but within the skew: accepted, never cached', doc: { exp: sec(NOW - 1_000) }, ttlMs: 0, expiresAtMs: NOW - 1_000 },
  { rule: 'nbf within the skew is fine', doc: { nbf: sec(NOW + 30_000) }, ttlMs: 60_000, expiresAtMs: NOW + 60_000 },
  { rule: 'matching issuer and an intersecting audience', doc: { iss: 'https://as.example', aud: ['x', 'https://api.example'] }, ctx: { issuer: 'https://as.example', audiences: new Set(['https://api.example']) }, ttlMs: 60_000, expiresAtMs: NOW + 60_000 },
];

for (const row of accepted) {
  test(`judge: ${row.rule}`, () => {
    const j = judgeIntrospection(active(row.doc), ctx(row.ctx));
    assert.equal(j.kind, 'valid');
    if (j.kind !== 'valid') return;
    assert.equal(j.ttlMs, row.ttlMs);
    assert.equal(j.token.expiresAtMs, row.expiresAtMs);
  });
}

test('judge: the verified token carries the normalised members, defaults and the phantom JWT', () => {
  const j = judgeIntrospection(active({ client_id: 'app', scope: 'a b', cnf: { 'x5t#S256': X5T } }), ctx({ issuer: undefined }), 'h.p.s');
  assert.equal(j.kind, 'valid');
  if (j.kind !== 'valid') return;
  const t = j.token;
  assert.deepEqual(
    [t.provider, t.kind, t.issuer, t.subject, t.clientId, t.scopes, t.audiences, t.certThumbprint, t.jwt],
    ['p', 'opaque', '', '', 'app', ['a', 'b'], [], X5T, 'h.p.s'],
  );
  assert.ok(Object.isFrozen(t));
});

test('thumbprintHex turns base64url x5t#S256 into the hex form the inbound proxy has', () => {
  const hex = 'ab'.repeat(32);
  assert.equal(thumbprintHex(Buffer.from(hex, 'hex').toString('base64url')), hex);
});
