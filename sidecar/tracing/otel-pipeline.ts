import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { ExchangeTracer } from '../forward/index.ts';
import { SpanTracer, type TracedDirection } from './span-tracer.ts';
import { EXPORT_BATCH_SIZE, EXPORT_DELAY_MS, MAX_QUEUED_SPANS, type TracingOptions } from './tracing-options.ts';

/** The instrumentation scope named on every span. */
const SCOPE = 'spiffe-sidecar';

/** A running tracing pipeline: one tracer per direction, a bounded export queue, and its shutdown. */
export interface Tracing {
  /** The tracer HttpFront calls for requests in `direction`. */
  forDirection(direction: TracedDirection): ExchangeTracer;
  /** Exports what is queued now (bounded by the export timeout). */
  flush(): Promise<void>;
  /** Exports what is queued (bounded by the export timeout) and stops. */
  shutdown(): Promise<void>;
}

/**
 * Builds the OpenTelemetry pipeline: a parent-based sampler (the caller's
 * sampled flag decides; new traces are kept with `samplingRatio`), a batch
 * processor with a bounded queue, and an OTLP/HTTP protobuf exporter, or
 * `exporter` when given (tests). Loaded only when tracing is enabled.
 */
export function createTracing(o: TracingOptions, exporter?: SpanExporter): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: o.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.samplingRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: exporter ?? new OTLPTraceExporter({ url: o.endpoint, timeoutMillis: o.exportTimeoutMs }),
        maxQueueSize: MAX_QUEUED_SPANS,
        maxExportBatchSize: EXPORT_BATCH_SIZE,
        scheduledDelayMillis: EXPORT_DELAY_MS,
        exportTimeoutMillis: o.exportTimeoutMs,
      }),
    ],
  });
  const tracer = provider.getTracer(SCOPE);
  const inbound = new SpanTracer(tracer, 'inbound', o.propagate);
  const outbound = new SpanTracer(tracer, 'outbound', o.propagate);
  return {
    forDirection: (direction) => (direction === 'inbound' ? inbound : outbound),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
