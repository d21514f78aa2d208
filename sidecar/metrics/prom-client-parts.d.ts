/**
 * Types for the parts of prom-client the sidecar loads one by one instead
 * of its index.js, which also loads lib/cluster.js (node:cluster) and
 * lib/pushgateway.js (node:http, node:https) that the sidecar never uses.
 * prom-client has no "exports" map, so these paths resolve as they are;
 * each module's `module.exports` is the class or function that index.js
 * re-exports, so the types are prom-client's own.
 */

declare module 'prom-client/lib/registry.js' {
  import type { Metric, Registry as PromRegistry } from 'prom-client';

  namespace Registry {
    /** One exposition sample, as node_modules/prom-client/lib/registry.js getMetricsAsString reads it. */
    interface Sample {
      readonly value: number;
      readonly labels: Readonly<Record<string, string | number>>;
      /** Labels written after `labels` (a histogram's series labels after `le`). */
      readonly sharedLabels?: Readonly<Record<string, string>>;
      /** The sample's name when it is not the family's (`_bucket`, `_sum`, `_count`). */
      readonly metricName?: string;
      /** Never set here: exemplars are an OpenMetrics feature the sidecar's registry does not use. */
      readonly exemplar?: null | undefined;
    }

    interface Family {
      readonly name: string;
      readonly help: string;
      readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
      readonly aggregator: 'sum';
      readonly values: readonly Sample[];
    }

    /**
     * What the Registry needs of a metric that is not one of prom-client's
     * classes: registerMetric keys it by `name`; metrics() prefers
     * getForPromString() over get(); getMetricsAsJSON() calls get();
     * resetMetrics() calls reset().
     */
    interface Exposable {
      readonly name: string;
      readonly help: string;
      readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
      readonly aggregator: 'sum';
      get(): Promise<Family>;
      getForPromString(): Promise<Family>;
      reset(): void;
    }
  }

  interface Registry extends PromRegistry {
    registerMetric(metric: Metric<string> | Registry.Exposable): void;
  }

  const Registry: new () => Registry;
  export = Registry;
}

declare module 'prom-client/lib/counter.js' {
  import type { Counter } from 'prom-client';
  const CounterClass: typeof Counter;
  export = CounterClass;
}

declare module 'prom-client/lib/gauge.js' {
  import type { Gauge } from 'prom-client';
  const GaugeClass: typeof Gauge;
  export = GaugeClass;
}

declare module 'prom-client/lib/histogram.js' {
  import type { Histogram } from 'prom-client';
  const HistogramClass: typeof Histogram;
  export = HistogramClass;
}

declare module 'prom-client/lib/defaultMetrics.js' {
  import type { collectDefaultMetrics } from 'prom-client';
  const collect: typeof collectDefaultMetrics;
  export = collect;
}
