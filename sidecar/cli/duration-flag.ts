import { parseDuration } from '../config/index.ts';
import { UsageError } from './io.ts';

/** Parses a duration flag (`500ms`, `30s`, `5m`, `1h`, more than zero); the error names the flag. */
export function durationFlag(flag: string, value: string): number {
  const r = parseDuration(value, { allowZero: false });
  if (!r.ok) throw new UsageError(`${flag}: ${r.message}`);
  return r.value;
}
