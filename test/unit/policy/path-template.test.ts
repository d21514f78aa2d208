import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MATCH, NEEDS_PRINCIPAL, NO_MATCH } from '../../../sidecar/policy/match-outcome.ts';
import { PathTemplate } from '../../../sidecar/policy/path-template.ts';
import type { PolicyPrincipal } from '../../../sidecar/policy/index.ts';

function template(text: string): PathTemplate {
  const p = PathTemplate.parse(text);
  assert.ok(p.ok, p.ok ? '' : p.problem);
  return p.template;
}
const user = (claims: Record<string, unknown>): PolicyPrincipal => ({ issuer: 'https://idp', subject: 's', clientId: '', scopes: [], claims });

// [template, normalised path, claims (undefined: no principal), expected]
const rows: [string, string, Record<string, unknown> | undefined, number][] = [
  ['/', '/', undefined, MATCH],
  ['/', '/a', undefined, NO_MATCH],
  ['/a/b', '/a/b', undefined, MATCH],
  ['/a/b', '/a/b/', undefined, NO_MATCH], // trailing slash is significant
  ['/a/b/', '/a/b/', undefined, MATCH],
  ['/a/b/', '/a/b', undefined, NO_MATCH],
  ['/a/b', '/a/bc', undefined, NO_MATCH],
  ['/a/*', '/a/x', undefined, MATCH],
  ['/a/*', '/a/', undefined, NO_MATCH],
  ['/a/*', '/a', undefined, NO_MATCH],
  ['/a/**', '/a', undefined, MATCH],
  ['/a/**', '/a/', undefined, MATCH],
  ['/a/**', '/a/x/y', undefined, MATCH],
  ['/a/**', '/ab', undefined, NO_MATCH],
  ['/u/{claims.id}', '/u/7', { id: '7' }, MATCH],
  ['/u/{claims.id}', '/u/7', { id: '8' }, NO_MATCH],
  ['/u/{claims.id}', '/u/7', undefined, NEEDS_PRINCIPAL],
  ['/u/{claims.id}', '/v/7', undefined, NO_MATCH], // literal mismatch is not "needs a token"
  ['/u/{claims.id}', '/u/', { id: '' }, NO_MATCH],
  ['/u/{claims.id}', '/u/1.5', { id: 1.5 }, MATCH],
  ['/u/{claims.id}', '/u/true', { id: true }, NO_MATCH], // booleans are not bound
  ['/u/{claims.id}', '/u/null', { id: null }, NO_MATCH],
  ['/u/{claims.id}', '/u/%C3%A9', { id: 'é' }, MATCH], // UTF-8 decoded
  ['/u/{claims.id}', '/u/%FF', { id: '\u00ff' }, NO_MATCH], // not UTF-8: never equal
  ['/u/{claims.id}', '/u/a%3Bb', { id: 'a;b' }, MATCH],
  ['/u/{claims.id}/x', '/u/7/x', { id: '7' }, MATCH],
  ['/u/{claims.id}/x', '/u/7/y', undefined, NO_MATCH],
  ['/o/{claims.org.id}', '/o/acme', { org: { id: 'acme' } }, MATCH],
  ['/o/{claims["a.b"]}', '/o/x', { 'a.b': 'x' }, MATCH],
  ['/o/{claims["a.b"]}', '/o/x', { a: { b: 'x' } }, NO_MATCH],
];
for (const [t, path, claims, want] of rows) {
  test(`PathTemplate.match: ${t} vs ${path}${claims === undefined ? ' (no principal)' : ` with ${JSON.stringify(claims)}`}`, () => {
    assert.equal(template(t).match(path, claims === undefined ? undefined : user(claims)), want);
  });
}

test('PathTemplate.match: spells templates canonically', () => {
  assert.equal(template('/a/{claims["id"]}/b/').text, '/a/{claims.id}/b/');
  assert.equal(template('/a/{claims["x.y"].z}').text, '/a/{claims["x.y"].z}');
  assert.equal(template('/').text, '/');
  assert.equal(template('/').usesClaims, false);
  assert.equal(template('/a/{claims.id}').usesClaims, true);
});
