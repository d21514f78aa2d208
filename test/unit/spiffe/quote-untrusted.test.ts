import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteUntrusted } from '../../../sidecar/spiffe/index.ts';

const rows: { name: string; input: string; want: string }[] = [
  { name: 'plain ASCII', input: 'spiffe://a/b', want: '"spiffe://a/b"' },
  { name: 'quote and backslash escaped', input: 'a"b\\c', want: '"a\\"b\\\\c"' },
  { name: 'newline escaped', input: 'a\nb', want: '"a\\u000ab"' },
  { name: 'DEL escaped', input: '\u007f', want: '"\\u007f"' },
  { name: 'non-ASCII escaped', input: '\u00e9\u2028', want: '"\\u00e9\\u2028"' },
  { name: 'long input cut', input: 'x'.repeat(300), want: `"${'x'.repeat(256)}"... (300 characters)` },
];
for (const row of rows) {
  test(`quoteUntrusted: ${row.name}`, () => assert.equal(quoteUntrusted(row.input), row.want));
}
