/**
 * Plain-number series handed to prom-client at scrape time: what they
 * expose must be what prom-client's own Counter and Histogram expose for
 * the same events, scrape after scrape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { PlainCounter, PlainHistogram } from '../../../sidecar/metrics/plain-series.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const HELP = 'A help text long enough for the registry.';

/** The same metric twice: prom-client's classes on one registry, the plain series on another. */
function pair() {
  const reference = new Registry();
  const plain = new Registry();
  const refCounter = new Counter({ name: 'x_total', help: HELP, labelNames: ['a', 'b'], registers: [reference] });
  const refHistogram = new Histogram({ name: 'x_seconds', help: HELP, labelNames: ['a'], buckets: BUCKETS, registers: [reference] });
  const counter = new PlainCounter(plain, { name: 'x_total', help: HELP, labelNames: ['a', 'b'] });
  const histogram = new PlainHistogram(plain, { name: 'x_seconds', help: HELP, labelNames: ['a'], buckets: BUCKETS });
  return {
    reference,
    plain,
    inc(a: string, b: string): void {
      refCounter.inc({ a, b });
      counter.at(a, b).value += 1;
    },
    observe(cells: Map<string, ReturnType<PlainHistogram['add']>>, a: string, v: number): void {
      refHistogram.observe({ a }, v);
      let cell = cells.get(a);
      if (cell === undefined) {
        cell = histogram.add(a);
        cells.set(a, cell);
      }
      cell.observe(v);
    },
  };
}

test('PlainCounter and PlainHistogram render what prom-client renders for the same events, at every scrape', async () => {
  const p = pair();
  const cells = new Map<string, ReturnType<PlainHistogram['add']>>();
  // Bounds themselves (le is "less than or equal"), values between, above the last bound and 0.
  const values = [0.001, 0.0005, 0.01, 0.05, 1, 3, 0, 0.1, 0.2];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20; i++) {
      p.inc(`a${(i * 7 + round) % 5}`, i % 2 === 0 ? 'x' : 'y\n"quoted"');
      p.observe(cells, `s${(i + round) % 3}`, values[i % values.length]!);
    }
    assert.equal(await p.plain.metrics(), await p.reference.metrics(), `scrape ${round + 1}`);
  }
  assert.deepEqual(await p.plain.getMetricsAsJSON(), await p.reference.getMetricsAsJSON());
});

test('PlainCounter: a series made with add() shows at 0 before its first increment, and in the order made', async () => {
  const registry = new Registry();
  const c = new PlainCounter(registry, { name: 'y_total', help: HELP, labelNames: ['k'] });
  c.add('made-first');
  const second = c.at('made-second');
  let text = await registry.metrics();
  assert.match(text, /\ny_total\{k="made-first"\} 0\ny_total\{k="made-second"\} 0\n$/);
  second.value += 2;
  text = await registry.metrics();
  assert.match(text, /\ny_total\{k="made-second"\} 2\n$/);
  assert.equal(c.at('made-second'), second, 'at() finds the series it made');
});

test('PlainHistogram: refuses an le label and buckets that do not ascend', () => {
  const registry = new Registry();
  assert.throws(() => new PlainHistogram(registry, { name: 'z1', help: HELP, labelNames: ['le'], buckets: [1] }), /le/);
  assert.throws(() => new PlainHistogram(registry, { name: 'z2', help: HELP, labelNames: [], buckets: [1, 1] }), /ascend/);
});
