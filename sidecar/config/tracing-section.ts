import type { ConfigReader, Mapping } from './config-reader.ts';
import { parseDuration } from './duration.ts';
import { nonEmptyString, yamlBoolean } from './field-parsers.ts';
import { accept, quoted, reject, typeName, type Parsed } from './parsed.ts';

/** `tracing:`: W3C trace context and OTLP span export (docs/tracing.md). Off by default. */
export interface TracingConfig {
  readonly enabled: boolean;
  /** OTLP/HTTP traces endpoint (protobuf): `http(s)://host:port/v1/traces`. */
  readonly endpoint: string;
  /** `service.name` of the exported spans. */
  readonly serviceName: string;
  /** Share of new traces recorded, 0 to 1; a caller's sampled flag is always followed. */
  readonly samplingRatio: number;
  /** Continue the caller's trace and forward the sidecar's `traceparent`; false: every span is a new trace and the headers pass untouched. */
  readonly propagate: boolean;
  /** How long one export request may take. */
  readonly exportTimeoutMs: number;
}

/** Defaults of `tracing:` (the OTLP/HTTP port of a collector on the same host). */
export const TRACING_DEFAULTS: TracingConfig = Object.freeze({
  enabled: false,
  endpoint: 'http://127.0.0.1:4318/v1/traces',
  serviceName: 'spiffe-sidecar',
  samplingRatio: 1,
  propagate: true,
  exportTimeoutMs: 10_000,
});

const KEYS = ['enabled', 'endpoint', 'serviceName', 'samplingRatio', 'propagate', 'exportTimeout'] as const;

/**
 * An OTLP endpoint URL: http or https, with a host, and without user
 * information, query or fragment (credentials in a URL end up in logs and
 * in the redacted config).
 */
function otlpEndpoint(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be an http:// or https:// URL, got ${typeName(raw)}`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return reject(`${quoted(raw)}: must be an http:// or https:// URL such as http://127.0.0.1:4318/v1/traces`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(`${quoted(raw)}: must use http or https`);
  if (url.username !== '' || url.password !== '') return reject('must not contain user information (credentials in URLs leak into logs)');
  if (url.search !== '' || url.hash !== '') return reject(`${quoted(url.origin + url.pathname)}...: must not have a query or fragment`);
  return accept(url.href);
}

/** A number from 0 to 1. */
function ratio(raw: unknown): Parsed<number> {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) return reject(`must be a number from 0 to 1, got ${typeName(raw)}`);
  return raw < 0 || raw > 1 ? reject(`${quoted(raw)}: must be from 0 to 1`) : accept(raw);
}

/** Reads `tracing:`; absent means tracing off. */
export function tracingSection(r: ConfigReader, root: Mapping | undefined): TracingConfig {
  const m = r.section(root, 'tracing', '', KEYS);
  const d = TRACING_DEFAULTS;
  return {
    enabled: r.read(m, 'enabled', 'tracing', yamlBoolean, d.enabled),
    endpoint: r.read(m, 'endpoint', 'tracing', otlpEndpoint, d.endpoint),
    serviceName: r.read(m, 'serviceName', 'tracing', nonEmptyString, d.serviceName),
    samplingRatio: r.read(m, 'samplingRatio', 'tracing', ratio, d.samplingRatio),
    propagate: r.read(m, 'propagate', 'tracing', yamlBoolean, d.propagate),
    exportTimeoutMs: r.read(m, 'exportTimeout', 'tracing', (v) => parseDuration(v, { allowZero: false }), d.exportTimeoutMs),
  };
}
