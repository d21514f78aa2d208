import { InjectorError } from './injector-error.ts';

/** A JSON value as JSON.parse returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/**
 * One RFC 6902 operation. The injector emits only `add`, `replace` and
 * `test`; {@link applyJsonPatch} also understands `remove`.
 */
export type JsonPatchOp =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: Json }
  | { readonly op: 'remove'; readonly path: string };

/**
 * Escapes one reference token for a JSON Pointer (RFC 6901 §3): `~` becomes
 * `~0` and `/` becomes `~1`, in that order, so an annotation key such as
 * `spiffe-sidecar.io/inject` is one token, not two.
 */
export function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Reverses {@link escapePointerToken} (RFC 6901 §4: `~1` first, then `~0`). */
export function unescapePointerToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Builds a JSON Pointer from unescaped tokens: `pointer('metadata', 'annotations', 'a/b')` is `/metadata/annotations/a~1b`. */
export function pointer(...tokens: readonly (string | number)[]): string {
  return tokens.map((t) => '/' + escapePointerToken(String(t))).join('');
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(message: string): never {
  throw new InjectorError('injector.patch_failed', [message]);
}

function arrayIndex(token: string, length: number, allowEnd: boolean, path: string): number {
  if (allowEnd && token === '-') return length;
  // RFC 6901 §4: array indexes are decimal without leading zeros.
  if (!/^(0|[1-9][0-9]*)$/.test(token)) fail(`json patch: ${path}: "${token}" is not an array index`);
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) fail(`json patch: ${path}: index ${i} is out of range (length ${length})`);
  return i;
}

/**
 * Applies an RFC 6902 patch to a deep copy of `doc` and returns the copy.
 * Used by offline injection and by tests to check that a generated patch
 * really applies; any failing operation throws 'injector.patch_failed' and
 * leaves `doc` untouched.
 */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  let root = structuredClone(doc) as unknown as Json;
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'test') {
        if (JSON.stringify(root) !== JSON.stringify(op.value)) fail('json patch: test failed at the document root');
        continue;
      }
      if (op.op === 'remove') fail('json patch: cannot remove the document root');
      root = structuredClone(op.value);
      continue;
    }
    if (!op.path.startsWith('/')) fail(`json patch: "${op.path}" is not a JSON Pointer`);
    const tokens = op.path.slice(1).split('/').map(unescapePointerToken);
    const last = tokens.pop()!;
    let parent: Json = root;
    for (const t of tokens) {
      if (Array.isArray(parent)) parent = parent[arrayIndex(t, parent.length, false, op.path)]!;
      else if (isObject(parent) && Object.hasOwn(parent, t)) parent = parent[t]!;
      else fail(`json patch: ${op.path}: "${t}" does not exist`);
    }
    if (Array.isArray(parent)) {
      const i = arrayIndex(last, parent.length, op.op === 'add', op.path);
      if (op.op === 'add') parent.splice(i, 0, structuredClone(op.value));
      else if (op.op === 'replace') parent[i] = structuredClone(op.value);
      else if (op.op === 'remove') parent.splice(i, 1);
      else if (JSON.stringify(parent[i]) !== JSON.stringify(op.value)) fail(`json patch: test failed at ${op.path}`);
    } else if (isObject(parent)) {
      const exists = Object.hasOwn(parent, last);
      if (op.op !== 'add' && !exists) fail(`json patch: ${op.path} does not exist`);
      if (op.op === 'add' || op.op === 'replace') parent[last] = structuredClone(op.value);
      else if (op.op === 'remove') delete parent[last];
      else if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) fail(`json patch: test failed at ${op.path}`);
    } else {
      fail(`json patch: ${op.path}: the parent is neither an object nor an array`);
    }
  }
  return root as unknown as T;
}
