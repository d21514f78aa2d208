#!/usr/bin/env node
// `npm run build` / `make build`: the two things the package ships from
// sidecar/ (docs/decisions/019-bundled-entry-point.md says why two):
//   dist/**      tsc's output, one file per module, with declarations: the
//                library (package.json "exports") and what tools read.
//   dist/bin/    the `spiffe-sidecar` command as one esbuild bundle of the
//                CLI and its npm dependencies: what bin/spiffe-sidecar.js
//                and the image run.
// Plain JavaScript, like the launcher, so it runs before anything is built.
//
//   node bin/build.js              both
//   node bin/build.js --bundle     the bundle only (from the sources; ~1 s)
//   node bin/build.js --warm-cache only the bundle's compile cache, for the
//                                  user running this (the image, as uid 1337)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * The bundle's esbuild options; `outdir` may be replaced (a test builds
 * into a temp directory). Choices:
 * - Entry = the TypeScript sources: esbuild strips the types itself, so the
 *   bundle never depends on a stale tsc output.
 * - dist/bin is two levels under the root, like every module's folder under
 *   sidecar/, so paths the code builds from import.meta.url
 *   (`../../package.json`, `../../build/native/original_dst.node`) resolve
 *   the same from the bundle as from the sources.
 * - splitting: what the code imports lazily (each CLI command, undici for
 *   token and key fetches, the OpenTelemetry pipeline) stays a separate
 *   chunk loaded on first use, so the bundle keeps the lazy loading the
 *   memory budget relies on (docs/benchmarks.md).
 * - ESM output with CommonJS dependencies inside: esbuild's `require` shim
 *   cannot load Node built-ins from ESM, so each chunk gets a real one.
 * - No minification: stack traces and class names stay readable in logs,
 *   and it measured no faster to start.
 */
export function bundleOptions(outdir = `${root}dist/bin`) {
  return {
    entryPoints: { main: `${root}sidecar/cli/main.ts` },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22.18',
    outdir,
    banner: { js: "import { createRequire as __ssCreateRequire } from 'node:module'; const require = __ssCreateRequire(import.meta.url);" },
    legalComments: 'linked',
    logLevel: 'warning',
  };
}

/** Builds the bundle into `outdir` (replaced whole), with its compile cache. */
export async function buildBundle(outdir) {
  const options = bundleOptions(outdir);
  rmSync(options.outdir, { recursive: true, force: true });
  const { build } = await import('esbuild');
  await build(options);
  warmCompileCache(options.outdir);
}

/**
 * Fills `<outdir>/compile-cache/` with V8's code for the bundle's chunks,
 * which the entry uses when the folder exists (sidecar/cli/compile-cache.ts;
 * docs/benchmarks.md, step 8): a separate Node imports every chunk (their
 * top level only declares), then writes the cache. Node keeps one
 * subfolder per Node version, V8 flag set and uid, so this runs as the user
 * that will run the sidecar: here the one building, in the image uid 1337
 * (Dockerfile). The heap-size flags the sidecar runs with do not change
 * the key. A failure fails the build: a bundle whose chunks cannot even be
 * imported is broken.
 */
export function warmCompileCache(outdir) {
  const dir = join(outdir, 'compile-cache');
  mkdirSync(dir, { recursive: true });
  const base = pathToFileURL(`${outdir}/`).href;
  const chunks = readdirSync(outdir).filter((f) => f.endsWith('.js') && f !== 'main.js');
  const script = [
    "import nodeModule from 'node:module';",
    `const r = nodeModule.enableCompileCache({ directory: ${JSON.stringify(dir)}, portable: true });`,
    "if (r.status !== nodeModule.constants.compileCacheStatus.ENABLED) throw new Error('compile cache not enabled: ' + (r.message ?? r.status));",
    `for (const f of ${JSON.stringify(chunks)}) await import(new URL(f, ${JSON.stringify(base)}));`,
    'nodeModule.flushCompileCache();',
    'process.exit(0);',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`warming the compile cache in ${dir} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim()}`);
}

async function main() {
  if (process.argv.includes('--warm-cache')) {
    warmCompileCache(`${root}dist/bin`);
    return;
  }
  const bundleOnly = process.argv.includes('--bundle');
  if (!bundleOnly) {
    const tsc = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
    if (tsc.status !== 0) {
      process.stderr.write(`build: tsc failed (exit ${tsc.status ?? tsc.signal})\n`);
      process.exitCode = 1;
      return;
    }
  }
  await buildBundle();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
