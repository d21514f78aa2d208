/**
 * Start-up and idle memory of one sidecar, quickly: the figures issue 10's
 * memory and start-up budget is tracked with while changing imports or V8
 * flags, without a whole `make bench` (docs/benchmarks.md, "Memory and
 * start-up budget").
 *
 *   node bench/startup-probe.ts [--runs N] [--source] [--flags="--max-semi-space-size=1 ..."] [--bin] [--trace FILE]
 *
 * Starts the bench app and a dev agent, then the benchmark's server-side
 * sidecar `runs` times, one at a time: spawn → first /readyz 200 (wall time
 * and the CPU time the process used until then); for the last run, RSS (and
 * its private, anonymous part) and the V8 heap 1 s and 3 s after ready.
 *
 * Runs the bundle dist/bin/main.js (`make build` first) unless --source; --bin runs
 * bin/spiffe-sidecar.js, which adds its flags itself. Node flags: the
 * launcher's (bin/node-flags.js) unless --flags gives others (--flags= for
 * V8's defaults). --trace FILE preloads bench/import-trace.ts and writes the
 * last run's import record to FILE. Prints one JSON line on stdout.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mainScript, projectRoot, sidecarEnv, startAgent, startApp, type BenchContext } from './bench-context.ts';
import { SIDECAR_NODE_FLAGS } from '../bin/node-flags.js';
import { planSidecarPair, spawnSidecar } from './families.ts';
import { freePorts } from '../sidecar/testing.ts';
import { cpuMicros, rssBytes } from './proc-stats.ts';
import { ProcessSet } from './process-set.ts';
import { httpText, waitFor200 } from './readiness-wait.ts';

const MiB = 2 ** 20;

function heapFigure(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Math.round((Number(m[1]) / MiB) * 10) / 10 : undefined;
}

/**
 * Private (anonymous) memory of `pid` in MiB, from smaps_rollup: RSS minus
 * the file pages, most of them the node binary's, which every Node process
 * on the machine shares.
 */
function anonMiB(pid: number): number | undefined {
  const m = /^Anonymous:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, source: { type: 'boolean' }, flags: { type: 'string' }, bin: { type: 'boolean' }, trace: { type: 'string' } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('startup-probe: --runs must be an integer 1..50');
  const compiled = join(projectRoot, 'dist', 'bin', 'main.js');
  const launcher = join(projectRoot, 'bin', 'spiffe-sidecar.js');
  const script = values.bin ? launcher : values.source ? mainScript : compiled;
  if (!existsSync(script)) throw new Error(`startup-probe: ${script} is missing (run \`make build\`)`);
  const flags = values.flags === undefined || values.bin ? (values.bin ? [] : [...SIDECAR_NODE_FLAGS]) : values.flags.split(' ').filter((f) => f !== '');
  if (values.trace !== undefined) {
    // Children inherit the environment: the hook writes its record there on exit.
    process.env['IMPORT_TRACE_OUT'] = resolve(values.trace);
    flags.push('--import', join(projectRoot, 'bench', 'import-trace.ts'));
  }

  const procs = new ProcessSet();
  process.on('exit', () => procs.killAllSync());
  const ctx: BenchContext = {
    procs,
    dir: procs.tempDir('ssb-probe-'),
    cpu: { load: undefined, proxies: undefined },
    ghostunnel: '',
    log: (m) => process.stderr.write(`[probe] ${m}\n`),
    ports: freePorts,
    sidecar: { script, nodeFlags: flags, env: sidecarEnv(), note: '' },
  };
  // nginx workers run unprivileged and must reach their files under it.
  chmodSync(ctx.dir, 0o755);
  try {
    const app = await startApp(ctx);
    const agent = await startAgent(ctx, 'agent', '1h');
    const plan = await planSidecarPair(ctx, app, agent, 'probe', false);
    const readyz = `http://127.0.0.1:${plan.serverAdmin}/readyz`;
    const times: number[] = [];
    const cpuMs: number[] = [];
    let idle: Record<string, number | undefined> = {};
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const p = spawnSidecar(ctx, 'probe-sidecar', plan.serverConfig);
      await waitFor200(readyz, p, 30_000, 5);
      times.push(Math.round(performance.now() - t0));
      // CPU time to ready: less sensitive to neighbours than wall time on a busy machine.
      const cpu = cpuMicros(p.pid);
      cpuMs.push(Math.round((cpu.user + cpu.sys) / 1000));
      if (i === runs - 1) {
        await new Promise((r) => setTimeout(r, 1_000));
        const rss1 = Math.round((rssBytes(p.pid) / MiB) * 10) / 10;
        await new Promise((r) => setTimeout(r, 2_000));
        const rss3 = Math.round((rssBytes(p.pid) / MiB) * 10) / 10;
        const metrics = await httpText(`http://127.0.0.1:${plan.serverAdmin}/metrics`).catch(() => '');
        idle = {
          rss1sMiB: rss1,
          rss3sMiB: rss3,
          anonymousMiB: anonMiB(p.pid),
          heapUsedMiB: heapFigure(metrics, 'nodejs_heap_size_used_bytes'),
          heapTotalMiB: heapFigure(metrics, 'nodejs_heap_size_total_bytes'),
          externalMiB: heapFigure(metrics, 'nodejs_external_memory_bytes'),
        };
      }
      await procs.stop(p);
    }
    const script_ = script.slice(projectRoot.length + 1);
    process.stdout.write(JSON.stringify({ script: script_, flags: flags.join(' '), readyMs: times, readyMedianMs: median(times), cpuToReadyMs: cpuMs, cpuToReadyMedianMs: median(cpuMs), ...idle }) + '\n');
  } finally {
    await procs.stopAll();
    procs.removeDirs();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`startup-probe: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
