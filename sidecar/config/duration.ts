import { accept, quoted, reject, typeName, type Parsed } from './parsed.ts';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Longest duration accepted anywhere in the configuration. */
export const MAX_DURATION_MS = 24 * 3_600_000;

/**
 * Parses a duration: a string of one or more `<number><unit>` parts with
 * units ms, s, m, h (`500ms`, `30s`, `1m30s`, `1.5s`), or a non-negative
 * integer meaning milliseconds. Returns milliseconds.
 *
 * A bare number in a string (`"500"`) is refused: in an env var or a quoted
 * YAML value it is ambiguous whether seconds or milliseconds were meant.
 */
export function parseDuration(raw: unknown, opts: { allowZero: boolean }): Parsed<number> {
  let ms: number;
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) return reject(`${quoted(raw)}: a number is milliseconds and must be a non-negative integer`);
    ms = raw;
  } else if (typeof raw === 'string') {
    const text = raw.trim();
    if (/^\d+$/.test(text)) return reject(`${quoted(raw)}: add a unit (ms, s, m or h), e.g. "${text}ms" or "${text}s"`);
    if (!WHOLE.test(text)) return reject(`${quoted(raw)}: must be a duration such as 500ms, 30s, 5m, 1h or 1m30s`);
    ms = 0;
    for (const m of text.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    // Guards against float dust (0.1s + 0.2s) while refusing real sub-millisecond values.
    const rounded = Math.round(ms);
    if (Math.abs(ms - rounded) > 1e-6) return reject(`${quoted(raw)}: must be a whole number of milliseconds`);
    ms = rounded;
  } else {
    return reject(`must be a duration such as 30s, got ${typeName(raw)}`);
  }
  if (ms === 0 && !opts.allowZero) return reject(`${quoted(raw)}: must be greater than zero`);
  if (ms > MAX_DURATION_MS) return reject(`${quoted(raw)}: must be at most 24h`);
  return accept(ms);
}
