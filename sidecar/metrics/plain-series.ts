/**
 * Series the data path updates as plain numbers: one object per label
 * combination, made once and kept by the caller, so recording a request is
 * a few property writes with nothing hashed or allocated. prom-client sees
 * the values only when the registry is scraped
 * (docs/decisions/018-metrics-at-scrape-time.md).
 */
import type { Registry as PromRegistry } from 'prom-client';
import type Registry from 'prom-client/lib/registry.js';
import Counter from 'prom-client/lib/counter.js';

/** One counter series. */
export class CountCell {
  /** Label values by label name, in the family's label order (the order they are written in). */
  readonly labels: Readonly<Record<string, string>>;
  value = 0;
  /** The value prom-client holds for this series; -1 before the first scrape saw it. */
  reported = -1;

  constructor(labels: Readonly<Record<string, string>>) {
    this.labels = labels;
  }
}

function labelObject(names: readonly string[], values: readonly string[]): Readonly<Record<string, string>> {
  if (names.length !== values.length) throw new Error(`metrics: ${values.length} label values for ${names.length} label names`);
  const labels: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i]!;
  return labels;
}

/** Counter settings: a prom-client Counter's, without `registers` (always one registry). */
export interface PlainCounterConfig {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

/**
 * A labelled counter whose series are {@link CountCell}s. It registers a
 * prom-client Counter whose collect() hands over what each cell gained
 * since the last scrape (Counter#inc with the difference): prom-client
 * keeps its series object and its label hash from the first scrape on and
 * only cells that changed touch it. Series appear in the exposition in the
 * order the cells were made, as prom-client orders series by first
 * increment. Values count from the cell's creation; Registry#resetMetrics
 * is not supported (the sidecar never calls it).
 */
export class PlainCounter {
  readonly #labelNames: readonly string[];
  readonly #cells: CountCell[] = [];
  /** Cells by first then second label value, for {@link at}. */
  readonly #byValues = new Map<string, Map<string, CountCell>>();

  constructor(registry: PromRegistry, config: PlainCounterConfig) {
    this.#labelNames = config.labelNames;
    const cells = this.#cells;
    new Counter({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [registry],
      collect() {
        for (const cell of cells) {
          const v = cell.value;
          if (v === cell.reported) continue;
          this.inc(cell.labels, cell.reported < 0 ? v : v - cell.reported);
          cell.reported = v;
        }
      },
    });
  }

  /** A new series with these label values, in label-name order; the caller keeps it. Shown (at 0) from the next scrape. */
  add(...values: string[]): CountCell {
    const cell = new CountCell(labelObject(this.#labelNames, values));
    this.#cells.push(cell);
    return cell;
  }

  /**
   * The series of a family with one or two labels, made on first use and
   * found again with one or two Map lookups and no allocation.
   */
  at(first: string, second = ''): CountCell {
    let row = this.#byValues.get(first);
    if (row === undefined) {
      row = new Map();
      this.#byValues.set(first, row);
    }
    let cell = row.get(second);
    if (cell === undefined) {
      cell = this.#labelNames.length === 1 ? this.add(first) : this.add(first, second);
      row.set(second, cell);
    }
    return cell;
  }
}

/** One histogram series. */
export class HistogramCell {
  readonly labels: Readonly<Record<string, string>>;
  /** The family's upper bounds, ascending. */
  readonly bounds: readonly number[];
  /**
   * Observations per bucket, not cumulative: slot i counts the values in
   * (bounds[i-1], bounds[i]], the last slot the values above every bound.
   */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records `v`, which must be finite (the caller guards it: NaN would poison the sum). */
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    // A value equal to a bound belongs to that bound's bucket (le = "less than or equal").
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]! += 1;
    this.sum += v;
    this.count += 1;
  }
}

type Sample = Registry.Sample;

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A labelled histogram whose series are {@link HistogramCell}s, registered
 * with the Registry as a metric object of its own: prom-client's Histogram
 * can only take observations one value at a time, so it cannot be handed
 * bucket counts. The samples it gives the Registry are the ones
 * prom-client's Histogram gives for the same data (node_modules/prom-client/
 * lib/histogram.js getForPromString): per series the cumulative buckets with
 * `le` first, then `+Inf`, `_sum` and `_count`, series in creation order;
 * the Registry writes the text.
 */
export class PlainHistogram implements Registry.Exposable {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #labelNames: readonly string[];
  readonly #bounds: readonly number[];
  /** `le` label objects, one per bound and the last for +Inf, shared by every series. */
  readonly #le: readonly Readonly<Record<'le', string | number>>[];
  readonly #cells: HistogramCell[] = [];

  constructor(registry: Registry, config: PlainCounterConfig & { readonly buckets: readonly number[] }) {
    if (config.labelNames.includes('le')) throw new Error('metrics: le is the bucket label of a histogram');
    for (let i = 1; i < config.buckets.length; i++) {
      if (!(config.buckets[i]! > config.buckets[i - 1]!)) throw new Error(`metrics: ${config.name} buckets must ascend`);
    }
    this.name = config.name;
    this.help = config.help;
    this.#labelNames = config.labelNames;
    this.#bounds = Object.freeze([...config.buckets]);
    this.#le = Object.freeze([...this.#bounds.map((le) => Object.freeze({ le })), Object.freeze({ le: '+Inf' })]);
    registry.registerMetric(this);
  }

  /** A new series with these label values, in label-name order; the caller keeps it. */
  add(...values: string[]): HistogramCell {
    const cell = new HistogramCell(labelObject(this.#labelNames, values), this.#bounds);
    this.#cells.push(cell);
    return cell;
  }

  async getForPromString(): Promise<Registry.Family> {
    return this.#family(false);
  }

  /** As getForPromString, with each sample's labels in one object (`le` first), as Histogram#get gives them. */
  async get(): Promise<Registry.Family> {
    return this.#family(true);
  }

  #family(joined: boolean): Registry.Family {
    const bucket = `${this.name}_bucket`;
    const sum = `${this.name}_sum`;
    const count = `${this.name}_count`;
    const n = this.#bounds.length;
    const values: Sample[] = [];
    const push = (labels: Readonly<Record<string, string | number>>, shared: Readonly<Record<string, string>>, value: number, metricName: string): void => {
      if (joined) {
        values.push({ value, metricName, exemplar: metricName === bucket ? null : undefined, labels: { ...labels, ...shared } });
      } else {
        values.push({ labels, sharedLabels: shared, value, metricName });
      }
    };
    for (const cell of this.#cells) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += cell.counts[i]!;
        push(this.#le[i]!, cell.labels, acc, bucket);
      }
      push(this.#le[n]!, cell.labels, cell.count, bucket);
      push(NO_LABELS, cell.labels, cell.sum, sum);
      push(NO_LABELS, cell.labels, cell.count, count);
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Zeroes every series (they stay, as callers keep their cells). */
  reset(): void {
    for (const cell of this.#cells) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}
