// The V8 flags `spiffe-sidecar run` runs with, in one place: the launcher
// (bin/spiffe-sidecar.js) adds them, the benchmark (bench/) starts sidecars
// with them, and the Dockerfile's ENTRYPOINT repeats them (keep it in sync).
// Why these values, with the measurements: docs/benchmarks.md, "Memory and
// start-up budget". Plain JavaScript, like the launcher.

/**
 * --max-semi-space-size=1: the young generation stays at 1 MiB per
 * semi-space instead of growing to 16 MiB; a proxy's per-request garbage
 * dies young and small, so a small nursery costs a few per cent of
 * throughput and saves about 30 MiB of heap idle and under load.
 * --max-old-space-size=96: a ceiling that makes V8 collect the old
 * generation before it grows far, with room above the largest heap the
 * benchmark's h2c/gRPC rows reach.
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
