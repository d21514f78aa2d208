import { existsSync } from 'node:fs';
import nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

/** The folder, next to the bundle's entry, that `npm run build` fills with V8 code cache (bin/build.js). */
export const COMPILE_CACHE_DIR = 'compile-cache';

/**
 * Turns on Node's module compile cache when the entry at `entryUrl` has a
 * {@link COMPILE_CACHE_DIR} folder beside it, which only the bundle has
 * (bin/build.js warms it). Compiling the bundle's chunks is about a sixth
 * of the CPU a sidecar spends before `/readyz` (docs/benchmarks.md,
 * "Memory and start-up budget", step 8); with the cache V8 deserialises
 * that code instead. Nothing else changes: Node checks every entry against
 * the file's contents and compiles afresh on a mismatch, an unreadable or
 * read-only folder only means no cache (enableCompileCache reports, never
 * throws), and `NODE_DISABLE_COMPILE_CACHE=1` turns it off. Portable: entries are keyed by paths relative to the
 * folder, so a bundle built in one place runs with its cache in another
 * (the image builds in /src and runs in /app).
 */
export function useBundleCompileCache(entryUrl: string, nodeVersion: string = process.versions.node): void {
  // The options form (and `portable`) came in Node 24.12; an older Node in
  // the supported range expects a folder name only, and the cache was made
  // by the build's Node 24 anyway, so it starts without one.
  const [major = 0, minor = 0] = nodeVersion.split('.').map(Number);
  if (major < 24 || (major === 24 && minor < 12)) return;
  const dir = fileURLToPath(new URL(`./${COMPILE_CACHE_DIR}/`, entryUrl));
  if (!existsSync(dir)) return;
  nodeModule.enableCompileCache({ directory: dir, portable: true });
}
