/**
 * undici, loaded on first use rather than at start-up (it weighs ~29 MiB
 * of RSS; docs/benchmarks.md, "Memory and start-up budget"): the token,
 * key-set and exchange clients call this before their first request.
 *
 * undici is CommonJS. Node's own loader gives `import()` of it named
 * exports; the bundle production runs (bin/build.js) gives the module as
 * `default` only, so the exports are taken from wherever they are.
 */
type Undici = typeof import('undici');

let loading: Promise<Undici> | undefined;

export function loadUndici(): Promise<Undici> {
  loading ??= import('undici').then(
    (m) => ('Agent' in m ? m : (m as unknown as { default: Undici }).default),
    (err: unknown) => {
      // A failed load is not remembered: the next request tries again.
      loading = undefined;
      throw err;
    },
  );
  return loading;
}
