import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderError, parseXfcc, xfccValue } from '../../../sidecar/headers/index.ts';

type Pairs = [string, string][];
const el = (...pairs: Pairs) => pairs.map(([key, value]) => ({ key, value }));

const HASH = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';

const rows: { name: string; input: string; want: ReturnType<typeof el>[] }[] = [
  { name: 'empty header', input: '', want: [] },
  { name: 'one pair', input: 'URI=spiffe://a/b', want: [el(['URI', 'spiffe://a/b'])] },
  {
    name: 'Envoy-style element with a quoted Subject',
    input: `By=spiffe://a/back;Hash=${HASH};Subject="/C=US/ST=CA/L=San Francisco/CN=Test";URI=spiffe://a/front`,
    want: [el(['By', 'spiffe://a/back'], ['Hash', HASH], ['Subject', '/C=US/ST=CA/L=San Francisco/CN=Test'], ['URI', 'spiffe://a/front'])],
  },
  { name: 'two elements', input: 'By=a;URI=b,By=c;URI=d', want: [el(['By', 'a'], ['URI', 'b']), el(['By', 'c'], ['URI', 'd'])] },
  { name: 'elements joined with ", " (repeated headers)', input: 'URI=a, URI=b', want: [el(['URI', 'a']), el(['URI', 'b'])] },
  { name: 'spaces around ";" and "="', input: 'By = a ; URI= b', want: [el(['By', 'a'], ['URI', 'b'])] },
  { name: 'inner spaces of an unquoted value kept', input: 'K=a b', want: [el(['K', 'a b'])] },
  { name: 'empty elements skipped', input: ',,URI=a,, ,', want: [el(['URI', 'a'])] },
  { name: 'empty unquoted value', input: 'K=;L=x', want: [el(['K', ''], ['L', 'x'])] },
  { name: 'quoted delimiters', input: 'K="a,b;c=d"', want: [el(['K', 'a,b;c=d'])] },
  { name: 'escaped quote', input: 'K="a\\"b"', want: [el(['K', 'a"b'])] },
  { name: 'escaped backslash before the closing quote', input: 'K="a\\\\"', want: [el(['K', 'a\\'])] },
  { name: 'unquoted backslash literal', input: 'K=a\\b', want: [el(['K', 'a\\b'])] },
  { name: 'repeated keys kept in order', input: 'URI=a;URI=b', want: [el(['URI', 'a'], ['URI', 'b'])] },
];

for (const row of rows) test(`parseXfcc: ${row.name}`, () => assert.deepEqual(parseXfcc(row.input), row.want));

const bad: { name: string; input: string; problem: RegExp }[] = [
  { name: 'key without "="', input: 'URI', problem: /offset 3: expected "=" after key "URI"/ },
  { name: 'missing key', input: '=a', problem: /offset 0: expected a key/ },
  { name: 'unterminated quote', input: 'K="abc', problem: /offset 2: unterminated quoted value/ },
  { name: 'quote ended by a final backslash', input: 'K="abc\\', problem: /offset 2: unterminated quoted value/ },
  { name: 'quote in an unquoted value', input: 'K=a"b', problem: /offset 3: " in a value that is not quoted/ },
  { name: 'equals in an unquoted value', input: 'K=a=b', problem: /offset 3: = in a value that is not quoted/ },
  { name: 'text after a closing quote', input: 'K="a"x', problem: /offset 5: expected ";", "," or the end/ },
  { name: 'empty pair', input: 'K=v;;L=x', problem: /offset 4: expected a key/ },
  { name: 'trailing semicolon', input: 'K=v;', problem: /offset 4: expected a key/ },
];
for (const row of bad) {
  test(`parseXfcc: refuses ${row.name}`, () => {
    assert.throws(
      () => parseXfcc(row.input),
      (err: unknown) => err instanceof HeaderError && err.code === 'headers.xfcc_syntax' && row.problem.test(err.message),
    );
  });
}

const [e] = parseXfcc('By=a;uri=b;URI=c');
test('xfccValue: finds keys case-insensitively, first one wins', () => assert.equal(xfccValue(e!, 'URI'), 'b'));
test('xfccValue: returns undefined for a missing key', () => assert.equal(xfccValue(e!, 'Hash'), undefined));
