/**
 * Prints the markdown report of a saved run again, from its JSON record:
 *   node bench/render-report.ts bench/results/bench-full-<time>.json [--write]
 * Error counts are re-read from the tools' own output kept in the record,
 * so a record made before a parser fix renders with the corrected counts;
 * the CPU profile summary is recomputed when the .cpuprofile files are
 * still there; every other figure is printed as stored. --write also replaces the JSON
 * record and its .md next to it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './bench-context.ts';
import { summariseProfile, type ProfileSummary } from './cpu-profile-summary.ts';
import type { BenchResults, CaseResult } from './bench-results.ts';
import { parseH2load, parseWrk } from './load-tools.ts';
import { renderReport } from './report.ts';

/** The note the harness writes for a row with failed requests (keep in step with bench.ts). */
export function failedRequestsNote(c: CaseResult): string {
  return `${c.id} ${c.body}: ${c.throughput.errors} failed requests under throughput load, ${c.latency.errors} in the latency run (see the JSON record for the tool output)`;
}

/** Recounts errors from the stored tool output and rebuilds the failed-request notes. */
export function recount(r: BenchResults): BenchResults {
  const cases = r.cases.map((c) => ({
    ...c,
    throughput: { ...c.throughput, errors: (c.throughput.tool === 'wrk' ? parseWrk(c.throughput.raw) : parseH2load(c.throughput.raw)).errors },
    latency: { ...c.latency, errors: parseH2load(c.latency.raw).errors },
  }));
  const notes = [
    ...r.notes.filter((n) => !n.includes('failed requests under throughput load')),
    ...cases.filter((c) => c.throughput.errors > 0 || c.latency.errors > 0).map(failedRequestsNote),
  ];
  return { ...r, cases, notes, profile: resummarise(r) };
}

/** Summarises the record's .cpuprofile files again with the current summariser, when they are still there. */
function resummarise(r: BenchResults): BenchResults['profile'] {
  if (r.profile === null) return null;
  const stored = r.profile as Partial<ProfileSummary> & Pick<ProfileSummary, 'scenario' | 'processes'>;
  const dir = stored.dir ?? join('bench', 'results', `profile-${r.startedAt.replace(/[:-]/g, '')}`);
  const files = stored.processes.map((p) => join(projectRoot, dir, p.file));
  if (!files.every((f) => existsSync(f))) return { ...stored, dir };
  return { scenario: stored.scenario, dir, processes: files.map((f) => summariseProfile(f, 20)) };
}

function main(argv: readonly string[]): void {
  const file = argv.find((a) => !a.startsWith('--'));
  if (file === undefined) {
    process.stderr.write('usage: node bench/render-report.ts RECORD.json [--write]\n');
    process.exitCode = 2;
    return;
  }
  const r = recount(JSON.parse(readFileSync(file, 'utf8')) as BenchResults);
  const md = renderReport(r);
  process.stdout.write(md);
  if (argv.includes('--write')) {
    writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
    writeFileSync(file.replace(/\.json$/, '') + '.md', md);
  }
}

if (import.meta.main) main(process.argv.slice(2));
