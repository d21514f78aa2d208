// The V8 flags and the environment `spiffe-sidecar run` runs with, in one
// place: the launcher (bin/spiffe-sidecar.js) adds them, the benchmark
// (bench/) starts sidecars with them, and the Dockerfile's ENTRYPOINT and ENV
// repeat them (keep it in sync).
// Why these values, with the measurements: docs/benchmarks.md, "Memory and
// start-up budget". Plain JavaScript, like the launcher.

/**
 * --max-semi-space-size=1: the young generation stays at 1 MiB per
 * semi-space instead of growing to 16 MiB each; a proxy's per-request
 * garbage dies young and small. Heap 55 → 25 MiB idle, 40-90 MiB less RSS
 * at peak, no measurable throughput cost in interleaved benchmark runs.
 * --max-old-space-size=96: a hard ceiling (past it the process dies with a
 * heap out-of-memory error) that also makes V8 collect the old generation
 * early; 96 leaves room above the largest heap the benchmark reaches, 32
 * would have saved only 4-5 MiB more.
 */
export const SIDECAR_NODE_FLAGS = Object.freeze(['--max-semi-space-size=1', '--max-old-space-size=96']);

/**
 * The flags of SIDECAR_NODE_FLAGS that neither `execArgv` nor `nodeOptions`
 * (the NODE_OPTIONS text) sets already; a value given there wins.
 */
export function missingNodeFlags(execArgv, nodeOptions) {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  // V8 accepts both spellings: --max-semi-space-size and --max_semi_space_size.
  const name = (flag) => flag.split('=')[0].replaceAll('_', '-');
  return SIDECAR_NODE_FLAGS.filter((f) => !given.some((g) => name(g) === name(f)));
}

/**
 * Environment read by the C library when the process starts, so it too must
 * be in place before node runs.
 * MALLOC_ARENA_MAX=1: glibc gives each thread that mallocs (V8's background
 * compiler and GC threads, libuv's pool) an arena of its own, up to eight per
 * core, and freed memory in them is rarely handed back. With one arena the
 * sidecar peaked 5-7 MiB lower under load on every protocol (90-92 against
 * 96-101 MiB on HTTP/1.1) and idled ~1 MiB lower, with no throughput or CPU
 * difference beyond run-to-run noise in four interleaved benchmark rounds
 * (docs/benchmarks.md, "Memory and start-up budget", step 9): the sidecar is
 * one JavaScript thread, so its allocations hardly contend.
 */
export const SIDECAR_ENV = Object.freeze({ MALLOC_ARENA_MAX: '1' });

/** The entries of SIDECAR_ENV that `env` does not set already; a value given there wins. */
export function missingEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(SIDECAR_ENV)) if (env[k] === undefined || env[k] === '') out[k] = v;
  return out;
}
