/** What {@link loadTracing} needs: the `tracing:` settings of the configuration (docs/config.md). */
export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`; spans go there as protobuf. */
  readonly endpoint: string;
  /** `service.name` of the exported resource. */
  readonly serviceName: string;
  /** Share of new traces recorded, 0 to 1; a caller's decision (the sampled flag) is always followed. */
  readonly samplingRatio: number;
  /**
   * Read the caller's `traceparent`/`tracestate` and forward the sidecar's
   * own; when false every span starts a new trace and the headers pass
   * through untouched.
   */
  readonly propagate: boolean;
  /** How long one export may take before it is abandoned. */
  readonly exportTimeoutMs: number;
}

/** Spans waiting for export, at most; beyond it spans are dropped, never queued without bound. */
export const MAX_QUEUED_SPANS = 2048;
/** Spans sent in one export request. */
export const EXPORT_BATCH_SIZE = 512;
/** How long a span waits in the queue before a batch goes out. */
export const EXPORT_DELAY_MS = 1000;
