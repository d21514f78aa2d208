/**
 * metricNames finds the metric names in PromQL (one row per construct it
 * must see through), and familyOf maps series names to the metric families
 * of an exposition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposedFamilies, familyOf, metricNames } from '../../support/promql-names.ts';

test('metricNames: one row per PromQL construct that is not a metric name', async (t) => {
  const rows: [string, string, string[]][] = [
    ['a bare selector', 'sidecar_svid_rotations_total', ['sidecar_svid_rotations_total']],
    ['label matchers, with identifiers and braces in their values', 'a{direction="inbound", code=~"5..|0", x="}b{"}', ['a']],
    ['single-quoted and backtick strings', "label_replace(a, 'dst', `$1`, \"src\", '(b)')", ['a']],
    ['range selectors and subqueries', 'rate(a[$__rate_interval]) + max_over_time(b[5m:1m])', ['a', 'b']],
    ['functions and aggregations are not names', 'histogram_quantile(0.99, sum(rate(a_bucket[5m])))', ['a_bucket']],
    ['a function with a space before its parenthesis', 'sum (a)', ['a']],
    ['grouping before the argument', 'sum by (le, direction) (a)', ['a']],
    ['grouping after the argument', 'sum(a) without (reason, peer_spiffe_id)', ['a']],
    ['vector matching clauses', 'a / on (pod) group_left (provider) b and ignoring (result) c', ['a', 'b', 'c']],
    ['set operators and bool', 'a unless b or c == bool d', ['a', 'b', 'c', 'd']],
    ['numbers, exponents, hex, durations after offset', 'a * 1e3 + 0x1f - 0.5 > 2 and b offset 1h30m', ['a', 'b']],
    ['Grafana variables outside matchers', 'topk($limit, a) / ${scale}', ['a']],
    ['time() and vector() take no metric', 'a - time() > 0 or vector(0)', ['a']],
    ['names with colons (recording rules)', 'job:a:rate5m', ['job:a:rate5m']],
    ['each name once, in order', 'b / (a + b)', ['b', 'a']],
    ['inf and nan', 'a > Inf or b < NaN', ['a', 'b']],
  ];
  for (const [name, expr, names] of rows) {
    await t.test(name, () => assert.deepEqual(metricNames(expr), names, expr));
  }
});

test('familyOf: a name, or the histogram its _bucket/_sum/_count series belongs to', async (t) => {
  const families = exposedFamilies(
    [
      '# HELP h help',
      '# TYPE h histogram',
      '# TYPE s summary',
      '# TYPE c_count counter',
      '# TYPE g gauge',
      'g 1',
      '',
    ].join('\n'),
  );
  const rows: [string, string, string | undefined][] = [
    ['a family itself', 'g', 'g'],
    ['a histogram bucket', 'h_bucket', 'h'],
    ['a histogram sum', 'h_sum', 'h'],
    ['a histogram count', 'h_count', 'h'],
    ['a summary has no buckets', 's_bucket', undefined],
    ['a summary count', 's_count', 's'],
    ['a counter named _count is itself', 'c_count', 'c_count'],
    ['a gauge has no _sum series', 'g_sum', undefined],
    ['an unknown name', 'nope', undefined],
  ];
  for (const [name, series, family] of rows) {
    await t.test(name, () => assert.equal(familyOf(series, families), family));
  }
});
