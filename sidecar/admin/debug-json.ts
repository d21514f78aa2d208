import { KeyObject } from 'node:crypto';

/** Property names that must never be served by a debug endpoint, whatever a callback returns. */
const SECRET_NAME = /private|secret|password|token|^key$|keypem$/i;

/**
 * Serialises a debug callback's result as pretty JSON, dropping key
 * material as a second line of defence: properties with secret-looking
 * names, and any KeyObject. The callbacks are expected to return only IDs,
 * hints, validity and serials; this guard covers a future mistake.
 */
export function debugJson(value: unknown): string {
  const text = JSON.stringify(
    value,
    (name, v: unknown) => {
      if (name !== '' && SECRET_NAME.test(name)) return undefined;
      if (v instanceof KeyObject) return undefined;
      if (typeof v === 'bigint') return v.toString();
      return v;
    },
    2,
  );
  return (text ?? 'null') + '\n';
}
