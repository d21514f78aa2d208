import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../../sidecar/config/index.ts';

const ok: [raw: unknown, ms: number, allowZero?: boolean][] = [
  ['500ms', 500],
  ['30s', 30_000],
  ['5m', 300_000],
  ['1h', 3_600_000],
  ['1m30s', 90_000],
  ['1h1m1s1ms', 3_661_001],
  ['1.5s', 1500],
  ['0.25s', 250],
  [' 2s ', 2000],
  [1500, 1500],
  ['24h', 86_400_000],
  [86_400_000, 86_400_000],
  ['0s', 0, true],
  [0, 0, true],
];

const bad: [raw: unknown, message: RegExp, allowZero?: boolean][] = [
  ['500', /add a unit \(ms, s, m or h\), e\.g\. "500ms" or "500s"/],
  ['5 s', /must be a duration such as/],
  ['5S', /must be a duration such as/],
  ['1d', /must be a duration such as/],
  ['-1s', /must be a duration such as/],
  ['', /must be a duration such as/],
  ['s', /must be a duration such as/],
  ['0.5ms', /whole number of milliseconds/],
  [1.5, /non-negative integer/],
  [-1, /non-negative integer/],
  [Number.NaN, /non-negative integer/],
  [true, /got boolean/],
  [['1s'], /got a list/],
  ['0s', /must be greater than zero/],
  [0, /must be greater than zero/],
  ['25h', /at most 24h/],
  ['24h1ms', /at most 24h/],
  [86_400_001, /at most 24h/],
];

for (const [raw, ms, allowZero] of ok) {
  test(`parseDuration: accepts ${JSON.stringify(raw)}`, () => {
    assert.deepEqual(parseDuration(raw, { allowZero: allowZero ?? false }), { ok: true, value: ms });
  });
}
for (const [raw, message, allowZero] of bad) {
  test(`parseDuration: rejects ${String(JSON.stringify(raw))}`, () => {
    const r = parseDuration(raw, { allowZero: allowZero ?? false });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', message);
  });
}
