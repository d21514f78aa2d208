import { checkTracestate, parseTraceparent, type TraceParent } from './trace-context.ts';

/** The trace context a request arrived with. */
export interface IncomingTraceContext {
  /** The caller's valid `traceparent`, or null (absent, malformed or repeated). */
  readonly parent: TraceParent | null;
  /** The caller's checked `tracestate`; null without a valid parent (§3.3.1) or when malformed. */
  readonly tracestate: string | null;
}

const NONE: IncomingTraceContext = Object.freeze({ parent: null, tracestate: null });

/** True when `name` is `traceparent` or `tracestate` in any case (lengths first: no lowercase copy for other headers). */
function isTraceHeader(name: string): boolean {
  if (name.length !== 11 && name.length !== 10) return false;
  const lower = name.toLowerCase();
  return lower === 'traceparent' || lower === 'tracestate';
}

/**
 * Reads the trace context of a raw header list (name, value, ...). More
 * than one `traceparent` line makes it invalid (§3.2: the header is a
 * single value); several `tracestate` lines are one comma-joined list
 * (§3.3.1, RFC 9110 §5.3).
 */
export function readTraceContext(headers: readonly string[]): IncomingTraceContext {
  let parentValue: string | null = null;
  let parents = 0;
  let state: string | null = null;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    if (!isTraceHeader(name)) continue;
    if (name.length === 11) {
      parents++;
      parentValue = headers[i + 1]!;
    } else {
      state = state === null ? headers[i + 1]! : `${state},${headers[i + 1]!}`;
    }
  }
  if (parents !== 1 || parentValue === null) return NONE;
  const parent = parseTraceparent(parentValue.trim());
  if (parent === null) return NONE;
  return { parent, tracestate: state === null ? null : checkTracestate(state) };
}

/**
 * Returns `headers` with every `traceparent`/`tracestate` line replaced by
 * the given ones (`tracestate` omitted when null). The list is changed in
 * place when it had none, so the common case allocates nothing but the pair.
 */
export function replaceTraceHeaders(headers: string[], traceparent: string, tracestate: string | null): string[] {
  let found = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (isTraceHeader(headers[i]!)) {
      found = true;
      break;
    }
  }
  let out = headers;
  if (found) {
    out = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      if (!isTraceHeader(name)) out.push(name, headers[i + 1]!);
    }
  }
  out.push('traceparent', traceparent);
  if (tracestate !== null) out.push('tracestate', tracestate);
  return out;
}
