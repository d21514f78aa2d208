/**
 * What importing one module costs a fresh Node process: wall time of the
 * import, and RSS / V8 heap after a full GC, each against the same process
 * before the import. One process per module, so the figures do not share
 * warm caches. For the memory and start-up budget (docs/benchmarks.md).
 *
 *   node bench/import-cost.ts [--repeat N] [SPECIFIER|FILE ...]
 *
 * Without arguments it measures the sidecar's npm dependencies and its
 * compiled composition root (dist/app.js, `make build` first). Prints a
 * markdown table (median of N runs per module).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { nodeBin, projectRoot } from './bench-context.ts';

const DEFAULTS = [
  'undici',
  '@grpc/grpc-js',
  'pino',
  'prom-client',
  'yaml',
  '@peculiar/asn1-x509',
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/exporter-trace-otlp-proto',
  'dist/workload/index.js',
  'dist/app.js',
  'dist/cli/run.js',
];

/** The probe run in the child: memory after GC before and after the import. */
const PROBE = `
const before = (gc(), gc(), process.memoryUsage());
const t0 = performance.now();
await import(process.argv[1]);
const ms = performance.now() - t0;
await new Promise((r) => setTimeout(r, 200));
const after = (gc(), gc(), process.memoryUsage());
process.stdout.write(JSON.stringify({ ms, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed, rssAfter: after.rss }));
`;

interface Cost {
  ms: number;
  rss: number;
  heap: number;
  rssAfter: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function target(spec: string): string {
  const file = resolve(projectRoot, spec);
  return existsSync(file) ? pathToFileURL(file).href : spec;
}

function measure(spec: string): Cost {
  const r = spawnSync(nodeBin, ['--expose-gc', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', PROBE, target(spec)], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`import-cost: importing ${spec} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Cost;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { repeat: { type: 'string', default: '3' } } });
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) throw new Error('import-cost: --repeat must be an integer 1..20');
  const specs = positionals.length > 0 ? positionals : DEFAULTS.filter((s) => !s.startsWith('dist/') || existsSync(join(projectRoot, s)));
  const MiB = 2 ** 20;
  const lines = ['| Module | import ms | RSS + MiB | V8 heap used + MiB | RSS after MiB |', '|---|---:|---:|---:|---:|'];
  for (const spec of specs) {
    const runs = Array.from({ length: repeat }, () => measure(spec));
    const m = (f: (c: Cost) => number): number => median(runs.map(f));
    lines.push(`| ${spec} | ${m((c) => c.ms).toFixed(0)} | ${(m((c) => c.rss) / MiB).toFixed(1)} | ${(m((c) => c.heap) / MiB).toFixed(1)} | ${(m((c) => c.rssAfter) / MiB).toFixed(1)} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main();
