import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderError, formatXfcc, parseXfcc, type XfccElement } from '../../../sidecar/headers/index.ts';

const one = (key: string, value: string): XfccElement[] => [[{ key, value }]];

// One row per quoting rule; every row must also parse back to its input.
const rows: { name: string; elements: XfccElement[]; want: string }[] = [
  { name: 'plain value unquoted', elements: one('URI', 'spiffe://example.org/a'), want: 'URI=spiffe://example.org/a' },
  { name: 'comma quoted', elements: one('Subject', 'CN=a,O=b'), want: 'Subject="CN=a,O=b"' },
  { name: 'semicolon quoted', elements: one('K', 'a;b'), want: 'K="a;b"' },
  { name: 'equals quoted', elements: one('K', 'a=b'), want: 'K="a=b"' },
  { name: 'double quote quoted and escaped', elements: one('K', 'say "hi"'), want: 'K="say \\"hi\\""' },
  { name: 'backslash alone left unquoted', elements: one('K', 'a\\b'), want: 'K=a\\b' },
  { name: 'backslash escaped inside quotes', elements: one('K', 'a\\,'), want: 'K="a\\\\,"' },
  { name: 'leading space quoted', elements: one('K', ' a'), want: 'K=" a"' },
  { name: 'trailing space quoted', elements: one('K', 'a '), want: 'K="a "' },
  { name: 'empty value quoted', elements: one('K', ''), want: 'K=""' },
  {
    name: 'pairs joined by ";", elements by ","',
    elements: [
      [
        { key: 'By', value: 'spiffe://a/b' },
        { key: 'Hash', value: 'ab' },
      ],
      [{ key: 'URI', value: 'spiffe://a/c' }],
    ],
    want: 'By=spiffe://a/b;Hash=ab,URI=spiffe://a/c',
  },
];

for (const row of rows) {
  test(`formatXfcc: ${row.name}`, () => {
    const got = formatXfcc(row.elements);
    assert.equal(got, row.want);
    assert.deepEqual(parseXfcc(got), row.elements, 'round trip');
  });
}

const bad: { name: string; elements: XfccElement[]; problem: RegExp }[] = [
  { name: 'CR', elements: one('K', 'a\rb'), problem: /control or non-ASCII/ },
  { name: 'LF', elements: one('K', 'a\nb'), problem: /control or non-ASCII/ },
  { name: 'NUL', elements: one('K', 'a\u0000'), problem: /control or non-ASCII/ },
  { name: 'DEL', elements: one('K', '\u007f'), problem: /control or non-ASCII/ },
  { name: 'tab', elements: one('K', 'a\tb'), problem: /control or non-ASCII/ },
  { name: 'non-ASCII', elements: one('K', 'caf\u00e9'), problem: /control or non-ASCII/ },
  { name: 'key with a space', elements: one('By ', 'a'), problem: /key "By " is not a token/ },
  { name: 'empty key', elements: one('', 'a'), problem: /key "" is not a token/ },
  { name: 'key with "="', elements: one('a=b', 'a'), problem: /is not a token/ },
  { name: 'element without pairs', elements: [[]], problem: /at least one key=value pair/ },
];
for (const row of bad) {
  test(`formatXfcc: refuses ${row.name}`, () => {
    assert.throws(
      () => formatXfcc(row.elements),
      (err: unknown) => err instanceof HeaderError && err.code === 'headers.invalid_value' && row.problem.test(err.message),
    );
  });
}
