import { describeError } from '../core/index.ts';
import type { Tracing } from './otel-pipeline.ts';
import { TracingError } from './tracing-error.ts';
import type { TracingOptions } from './tracing-options.ts';

/**
 * Loads the OpenTelemetry packages and starts the tracing pipeline. The
 * import happens here, on first use, so a sidecar with tracing off never
 * loads them (their memory is reported in docs/tracing.md).
 */
export async function loadTracing(o: TracingOptions): Promise<Tracing> {
  if (!(o.samplingRatio >= 0 && o.samplingRatio <= 1)) {
    throw new TracingError('tracing.invalid_options', `samplingRatio must be between 0 and 1, got ${o.samplingRatio}`);
  }
  let pipeline: typeof import('./otel-pipeline.ts');
  try {
    pipeline = await import('./otel-pipeline.ts');
  } catch (err) {
    throw new TracingError('tracing.load_failed', `cannot load the OpenTelemetry packages: ${describeError(err)}`, { cause: err });
  }
  return pipeline.createTracing(o);
}
