import type { StructMessage, ValueMessage } from './workload-messages.ts';

/** JSON-compatible values, as JWT claims are. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Converts a plain JSON object (e.g. JWT claims) to a `google.protobuf.Struct`
 * in the object form of workload-messages.ts. `undefined` members are left out, as JSON does.
 */
export function toStruct(obj: Readonly<Record<string, unknown>>): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined) fields[k] = toValue(v);
  }
  return { fields };
}

function toValue(v: unknown): ValueMessage {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'bigint') return { numberValue: Number(v) };
  if (typeof v === 'string') return { stringValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map((x) => toValue(x ?? null)) } };
  if (typeof v === 'object') return { structValue: toStruct(v as Record<string, unknown>) };
  return { stringValue: String(v) };
}

/** Converts a decoded `google.protobuf.Struct` back to a plain JSON object. */
export function fromStruct(s: StructMessage | null | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  if (!s?.fields) return out;
  for (const [k, v] of Object.entries(s.fields)) {
    // defineProperty: a claim named "__proto__" must stay a plain key.
    Object.defineProperty(out, k, { value: fromValue(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function fromValue(v: ValueMessage | undefined): JsonValue {
  if (!v) return null;
  const kind = v.kind ?? Object.keys(v).find((key) => key !== 'kind' && (v as Record<string, unknown>)[key] !== undefined);
  switch (kind) {
    case 'boolValue':
      return v.boolValue ?? false;
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'stringValue':
      return v.stringValue ?? '';
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromValue);
    case 'structValue':
      return fromStruct(v.structValue);
    default:
      return null;
  }
}
