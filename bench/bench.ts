/**
 * `make bench` / `make bench-quick`: the sidecar pair against direct, an
 * nginx mTLS pair and a ghostunnel pair, side by side in one run, on
 * loopback, with every process stopped at the end; then, with root, the
 * same pair in two network-namespace pods, explicit against transparent
 * capture (bench/bench-transparent.ts). See docs/benchmarks.md.
 *
 *   node bench/bench.ts [--quick] [--out FILE.json] [--only id,id] [--rate N]
 *                       [--no-pin] [--profile | --no-profile] [--keep-temp]
 *                       [--source] [--node-flags="--flag ..."]
 *
 * Prints the markdown report on stdout (progress on stderr) and writes the
 * JSON record (and the markdown) to bench/results/ unless --out is given.
 * --keep-temp keeps the temp directory: configs, nginx logs, and every
 * process's output under logs/.
 *
 * Sidecars run as in production: the bundle dist/bin/main.js (built first
 * when missing or older than a source file) with the V8 flags the launcher
 * adds (bin/node-flags.js). --source runs the TypeScript sources instead;
 * --node-flags replaces the V8 flags (an empty string: V8's defaults), for
 * measuring other settings.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { SIDECAR_ENV, SIDECAR_NODE_FLAGS } from '../bin/node-flags.js';
import type { BenchResults, BodySize, CaseResult, FamilyResult, HeapBySide, HeapFigures, MemoryStage, ReadinessResult, RotationResult, TransparentRun } from './bench-results.ts';
import { compiledMain, mainScript, sidecarEnv, startAgent, startApp, writeSvids, nodeBin, projectRoot, type Agent, type App, type BenchContext, type SidecarLaunch } from './bench-context.ts';
import { CASES, NETNS_CASES, runCase, type LoadSettings } from './cases.ts';
import { transparentRows } from './bench-transparent.ts';
import { summariseProfile, type ProfileSummary } from './cpu-profile-summary.ts';
import { FAMILY_IDS, ghostunnelServerArgs, planSidecarPair, spawnSidecar, startFamily, type RunningFamily } from './families.ts';
import { freePorts } from '../sidecar/testing.ts';
import { grpcUnaryCheck } from './grpc-check.ts';
import { runWrk } from './load-tools.ts';
import { machineInfo, toolVersions } from './machine-info.ts';
import { groupRssBytes, rssBytes } from './proc-stats.ts';
import { ProcessSet } from './process-set.ts';
import type { RateClientPlan, RateClientReport } from './rate-client.ts';
import { httpText, waitFor200 } from './readiness-wait.ts';
import { failedRequestsNote } from './render-report.ts';
import { goalRows } from './goals.ts';
import { renderReport } from './report.ts';

/** Settings of the two modes. */
interface ModeSettings extends LoadSettings {
  readonly readinessRuns: number;
  readonly rotationS: number;
  /** Dev agent TTL for the rotation scenario; it rotates at half. */
  readonly rotationTtlMs: number;
  readonly profileS: number;
  readonly profile: boolean;
  /** The transparent-capture rows: interleaved sets, warm-up and throughput seconds per run, body sizes. */
  readonly transparentSets: number;
  readonly transparentWarmupS: number;
  readonly transparentThroughputS: number;
  readonly transparentBodies: readonly BodySize[];
}

const COMMON = { h1Connections: 32, h2Clients: 4, h2Streams: 8, latencyRps: 500, latencyClients: 10 };

const QUICK: ModeSettings = {
  ...COMMON,
  warmupS: 1,
  throughputS: 2,
  latencyS: 2,
  readinessRuns: 3,
  rotationS: 6,
  rotationTtlMs: 4_000,
  profileS: 3,
  profile: false,
  // A smoke: one set at 64 B (about 15 s with the pods' set-up).
  transparentSets: 1,
  transparentWarmupS: 1,
  transparentThroughputS: 2,
  transparentBodies: ['small'],
};

const FULL: ModeSettings = {
  ...COMMON,
  warmupS: 2,
  throughputS: 10,
  latencyS: 8,
  readinessRuns: 7,
  rotationS: 20,
  rotationTtlMs: 4_000,
  profileS: 10,
  profile: true,
  transparentSets: 5,
  transparentWarmupS: 1,
  transparentThroughputS: 3,
  transparentBodies: ['small', '16k'],
};

const ghostunnelVersion = 'v1.11.0';

const compiledApp = join(projectRoot, 'dist', 'app.js');

function parseCli(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      out: { type: 'string' },
      only: { type: 'string' },
      rate: { type: 'string' },
      'no-pin': { type: 'boolean' },
      profile: { type: 'boolean' },
      'no-profile': { type: 'boolean' },
      'keep-temp': { type: 'boolean' },
      source: { type: 'boolean' },
      'node-flags': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return values;
}

const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Builds ghostunnel once (bench/install-ghostunnel.sh) and returns the binary. */
function ensureGhostunnel(): string {
  const bin = join(projectRoot, '.cache', 'ghostunnel', ghostunnelVersion, 'bin', 'ghostunnel');
  if (existsSync(bin)) return bin;
  log('building ghostunnel (first run only)');
  const r = spawnSync(join(projectRoot, 'bench', 'install-ghostunnel.sh'), [], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(bin)) throw new Error('bench: bench/install-ghostunnel.sh failed');
  return bin;
}

/** Newest modification time (ms) of a file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/**
 * Makes dist/ current (`node bin/build.js`, as `make build`: tsc's output
 * and the bundle production runs) when the bundle is missing or older than
 * a file under sidecar/; returns an error text when the build fails.
 */
function ensureCompiled(): string | undefined {
  if (existsSync(compiledMain) && statSync(compiledMain).mtimeMs >= newestMtime(join(projectRoot, 'sidecar'))) return undefined;
  log('building dist/ (node bin/build.js: tsc, then the bundle dist/bin/)');
  const r = spawnSync(nodeBin, [join(projectRoot, 'bin', 'build.js')], { cwd: projectRoot, encoding: 'utf8', timeout: 300_000 });
  if (r.status === 0 && existsSync(compiledMain)) return undefined;
  return `the build failed (exit ${r.status ?? r.signal}): ${(r.stdout + r.stderr).trim().split('\n').slice(0, 5).join(' | ')}`;
}

/** The sidecars' entry script and node flags for this run (see the file comment). */
function sidecarLaunch(source: boolean, nodeFlags: string | undefined, notes: string[]): SidecarLaunch {
  const flags = nodeFlags === undefined ? [...SIDECAR_NODE_FLAGS] : nodeFlags.split(' ').filter((f) => f !== '');
  const flagText = flags.length > 0 ? `\`${flags.join(' ')}\`` : 'V8 defaults';
  const why = nodeFlags === undefined ? "the launcher's (bin/node-flags.js)" : 'from --node-flags';
  const env = sidecarEnv();
  const envText = Object.keys(SIDECAR_ENV)
    .map((k) => `${k}=${env[k] ?? ''}${process.env[k] ? ' (from the environment)' : ''}`)
    .join(', ');
  const launch = (script: string, what: string): SidecarLaunch => ({ script, nodeFlags: flags, env, note: `${what}, node flags ${flagText} ${why}; ${envText}.` });
  if (source) return launch(mainScript, 'TypeScript sources (--source, type stripping)');
  const failed = ensureCompiled();
  if (failed !== undefined) {
    notes.push(`The sidecars ran from the TypeScript sources: ${failed}`);
    return launch(mainScript, 'TypeScript sources (compiling dist/ failed, see Notes)');
  }
  return launch(compiledMain, 'the bundle dist/bin/main.js, as in production');
}

/** CPU lists: load generators on CPU 0, app and proxies on CPU 1 (when there are two and pinning is on). */
function pinning(enabled: boolean, nproc: number): { load: string | undefined; proxies: string | undefined; note: string } {
  const haveTaskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
  if (!enabled) return { load: undefined, proxies: undefined, note: 'off (--no-pin); every process may run on any CPU.' };
  if (!haveTaskset) return { load: undefined, proxies: undefined, note: 'off: taskset not found.' };
  if (nproc < 2) return { load: undefined, proxies: undefined, note: `off: only ${nproc} CPU.` };
  const last = String(nproc - 1);
  return {
    load: '0',
    proxies: nproc === 2 ? '1' : `1-${last}`,
    note:
      nproc === 2
        ? 'taskset: load generators, the dev agent and the harness on CPU 0; the app and every proxy process on CPU 1 (all proxies of a pair share that one core).'
        : `taskset: load generators, the dev agent and the harness on CPU 0; the app and every proxy process on CPUs 1-${last}.`,
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Reads one counter from a Prometheus text page. */
function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** V8 heap gauges of both sidecars of a pair, from their /metrics. */
async function heapBySide(admin: { readonly client: string; readonly server: string }): Promise<HeapBySide> {
  const one = async (base: string): Promise<HeapFigures | undefined> => {
    const text = await httpText(`${base}/metrics`).catch(() => '');
    const used = metricValue(text, 'nodejs_heap_size_used_bytes');
    const total = metricValue(text, 'nodejs_heap_size_total_bytes');
    const external = metricValue(text, 'nodejs_external_memory_bytes');
    if (used === undefined || total === undefined || external === undefined) return undefined;
    return { heapUsedBytes: used, heapTotalBytes: total, externalBytes: external };
  };
  const [client, server] = await Promise.all([one(admin.client), one(admin.server)]);
  return { ...(client ? { client } : {}), ...(server ? { server } : {}) };
}

/** Spawn → first 200 from the readiness endpoint, `runs` times, one process at a time. */
async function measureReadiness(
  ctx: BenchContext,
  what: string,
  endpoint: string,
  runs: number,
  start: () => { proc: ReturnType<ProcessSet['spawn']>; url: string },
): Promise<ReadinessResult> {
  const times: number[] = [];
  let rssAfterReadyBytes = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const { proc, url } = start();
    await waitFor200(url, proc, 30_000, 5);
    times.push(Math.round((performance.now() - t0) * 10) / 10);
    if (i === runs - 1) {
      await sleep(1_000);
      rssAfterReadyBytes = rssBytes(proc.pid);
    }
    await ctx.procs.stop(proc);
  }
  return { what, endpoint, runsMs: times, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), rssAfterReadyBytes };
}

/**
 * Where a sidecar's idle RSS comes from, stage by stage: Node alone, Node
 * with the npm dependencies loaded, with the sidecar's modules loaded
 * (compiled and from source). Each is a separate process, read 2 s after start.
 */
async function memoryStages(ctx: BenchContext): Promise<MemoryStage[]> {
  const stages: { what: string; code: string }[] = [
    { what: 'Node.js alone', code: '' },
    { what: '+ npm dependencies imported (undici, @grpc/grpc-js, pino, prom-client, yaml, @peculiar/asn1-x509)', code: "await Promise.all(['undici', '@grpc/grpc-js', 'pino', 'prom-client', 'yaml', '@peculiar/asn1-x509'].map((m) => import(m)));" },
    ...(existsSync(compiledApp) ? [{ what: '+ sidecar modules, compiled (dist/app.js imported)', code: `await import(${JSON.stringify(compiledApp)});` }] : []),
    { what: '+ sidecar modules from source (sidecar/app.ts imported, type stripping)', code: `await import(${JSON.stringify(join(projectRoot, 'sidecar', 'app.ts'))});` },
  ];
  const out: MemoryStage[] = [];
  for (const st of stages) {
    const p = ctx.procs.spawn('memory-stage', nodeBin, ['--disable-warning=ExperimentalWarning', ...ctx.sidecar.nodeFlags, '--input-type=module', '-e', `${st.code} setTimeout(() => {}, 60_000);`], {
      env: ctx.sidecar.env,
      cpu: ctx.cpu.proxies,
      cwd: projectRoot,
    });
    await sleep(2_000);
    if (!p.running()) throw new Error(`bench: memory stage "${st.what}" exited:\n${p.output()}`);
    out.push({ what: st.what, rssBytes: rssBytes(p.pid) });
    await ctx.procs.stop(p);
  }
  return out;
}

async function readinessScenario(ctx: BenchContext, app: App, agent: Agent, runs: number): Promise<ReadinessResult[]> {
  const out: ReadinessResult[] = [];
  const plan = await planSidecarPair(ctx, app, agent, 'readiness', false);
  const readyz = `http://127.0.0.1:${plan.serverAdmin}/readyz`;
  out.push(
    await measureReadiness(ctx, 'spiffe-sidecar from source (node sidecar/cli/main.ts, type stripping), server side config', '/readyz', runs, () => ({
      proc: spawnSidecar(ctx, 'readiness-sidecar', plan.serverConfig, [], mainScript),
      url: readyz,
    })),
  );
  // The published entry (bin/spiffe-sidecar.js) runs the compiled dist/; measured when `make build` has made it.
  if (existsSync(compiledMain)) {
    out.push(
      await measureReadiness(ctx, 'spiffe-sidecar compiled (node dist/bin/main.js, the bundle), server side config', '/readyz', runs, () => ({
        proc: spawnSidecar(ctx, 'readiness-sidecar-dist', plan.serverConfig, [], compiledMain),
        url: readyz,
      })),
    );
  }
  const [port, status] = (await ctx.ports(2)) as [number, number];
  out.push(
    await measureReadiness(ctx, `ghostunnel ${ghostunnelVersion} server (Workload API)`, '/_status', runs, () => ({
      proc: ctx.procs.spawn('readiness-ghostunnel', ctx.ghostunnel, ghostunnelServerArgs({ app, agent }, port, status), { cpu: ctx.cpu.proxies }),
      url: `http://127.0.0.1:${status}/_status`,
    })),
  );
  // For scale: how long Node itself takes to start and exit on this machine.
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const p = ctx.procs.spawn('node-empty', nodeBin, ['-e', ''], { cpu: ctx.cpu.proxies });
    await p.exited;
    times.push(Math.round((performance.now() - t0) * 10) / 10);
  }
  out.push({ what: 'Node.js alone (node -e ""), for scale', endpoint: 'exit', runsMs: times, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), rssAfterReadyBytes: null });
  return out;
}

/** The rate-client's streams: HTTP over kept-alive connections, and the TCP tunnel with a new connection per request. */
type RotationStreams = RotationResult['streams'];

/**
 * A fresh sidecar pair on its own dev agent (SVID lifetime `ttlMs`) under
 * constant-rate load from rate-client.ts: HTTP/1.1 over kept-alive
 * connections through the outbound proxy, and a new TCP connection (so a
 * new mTLS handshake with whatever SVID is current) per request through the
 * TCP tunnel.
 */
async function steadyLoad(ctx: BenchContext, app: App, name: string, ttlMs: number, durationS: number): Promise<{ streams: RotationStreams; agentRotations: number; sidecarRotations: RotationResult['sidecarRotations'] }> {
  const agent = await startAgent(ctx, `agent-${name}`, `${ttlMs}ms`);
  const plan = await planSidecarPair(ctx, app, agent, name, false);
  const server = spawnSidecar(ctx, `${name}-server`, plan.serverConfig);
  const client = spawnSidecar(ctx, `${name}-client`, plan.clientConfig);
  try {
    await waitFor200(`http://127.0.0.1:${plan.serverAdmin}/readyz`, server, 30_000);
    await waitFor200(`http://127.0.0.1:${plan.clientAdmin}/readyz`, client, 30_000);
    const rotationsBefore = agent.rotations();
    const runPlan: RateClientPlan = {
      durationMs: durationS * 1000,
      timeoutMs: 5_000,
      targets: [
        { name: 'HTTP keep-alive', url: `http://127.0.0.1:${plan.outboundPort}/small`, mode: 'keepalive', rps: 200 },
        { name: 'TCP tunnel, new connection per request', url: `http://127.0.0.1:${plan.tcpOutboundPort}/small`, mode: 'close', rps: 50 },
      ],
    };
    const rc = ctx.procs.spawn('rate-client', nodeBin, ['--disable-warning=ExperimentalWarning', join(projectRoot, 'bench', 'rate-client.ts'), JSON.stringify(runPlan)], {
      cpu: ctx.cpu.load,
      cwd: projectRoot,
    });
    const timer = setTimeout(() => void ctx.procs.stop(rc, 'SIGKILL'), (durationS + 30) * 1000);
    const code = await rc.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`bench: rate-client exited with ${code}:\n${rc.output()}`);
    const report = JSON.parse(rc.output().trim().split('\n').pop() ?? '') as RateClientReport;
    const agentRotations = agent.rotations() - rotationsBefore;
    const rotations = async (url: string): Promise<number | undefined> => metricValue(await httpText(`${url}/metrics`).catch(() => ''), 'sidecar_svid_rotations_total');
    const [c, sv] = await Promise.all([rotations(`http://127.0.0.1:${plan.clientAdmin}`), rotations(`http://127.0.0.1:${plan.serverAdmin}`)]);
    const streams = report.targets.map((t) => ({
      name: t.name,
      rps: runPlan.targets.find((x) => x.name === t.name)!.rps,
      sent: t.sent,
      ok: t.ok,
      failed: t.failed,
      failures: t.failures,
      p50Ms: Math.round(t.p50Ms * 10) / 10,
      p99Ms: Math.round(t.p99Ms * 10) / 10,
    }));
    return { streams, agentRotations, sidecarRotations: { ...(c !== undefined ? { client: c } : {}), ...(sv !== undefined ? { server: sv } : {}) } };
  } finally {
    await Promise.all([ctx.procs.stop(client), ctx.procs.stop(server)]);
    await ctx.procs.stop(agent.proc);
  }
}

/**
 * Requests failed while SVIDs rotate: the same load twice, first with a
 * 1 h TTL (no rotation: the control, for latency), then with the short TTL.
 */
async function rotationScenario(ctx: BenchContext, app: App, s: ModeSettings): Promise<RotationResult> {
  const control = await steadyLoad(ctx, app, 'rotation-control', 3_600_000, s.rotationS);
  const rot = await steadyLoad(ctx, app, 'rotation', s.rotationTtlMs, s.rotationS);
  return {
    svidTtlMs: s.rotationTtlMs,
    durationS: s.rotationS,
    streams: rot.streams,
    failed: rot.streams.reduce((a, x) => a + x.failed, 0),
    agentRotations: rot.agentRotations,
    sidecarRotations: rot.sidecarRotations,
    control: control.streams,
  };
}

/** The HTTP/1.1 sidecar pair under wrk with `node --cpu-prof` on both processes. */
async function profileScenario(ctx: BenchContext, app: App, agent: Agent, certDir: string, s: ModeSettings, outDir: string): Promise<ProfileSummary> {
  mkdirSync(outDir, { recursive: true });
  const flags = (side: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${outDir}`, `--cpu-prof-name=sidecar-${side}.cpuprofile`];
  const fam = await startFamily('sidecar-h1', { ctx, app, agent, certDir, nodeFlags: { client: flags('client'), server: flags('server') } });
  try {
    await runWrk(ctx.procs, { url: `${fam.entries.h1}/small`, connections: s.h1Connections, durationS: s.warmupS, cpu: ctx.cpu.load });
    await runWrk(ctx.procs, { url: `${fam.entries.h1}/small`, connections: s.h1Connections, durationS: s.profileS, cpu: ctx.cpu.load });
  } finally {
    // SIGTERM: the sidecar drains and exits normally, which is when node writes the profile.
    await fam.stop();
  }
  // One start-up on its own: spawn → /readyz 200 → stop, with the run's entry script and flags.
  const plan = await planSidecarPair(ctx, app, agent, 'profile-startup', false);
  const start = spawnSidecar(ctx, 'profile-startup', plan.serverConfig, ['--cpu-prof', `--cpu-prof-dir=${outDir}`, '--cpu-prof-name=sidecar-startup.cpuprofile']);
  await waitFor200(`http://127.0.0.1:${plan.serverAdmin}/readyz`, start, 30_000, 5);
  await ctx.procs.stop(start);
  return {
    scenario:
      `spiffe-sidecar pair, HTTP/1.1, 64 B body, wrk -t1 -c${s.h1Connections} for ${s.profileS} s after ${s.warmupS} s warm-up ` +
      '(the two load profiles cover each process from start to exit); then one server-side start-up alone (spawn → /readyz 200 → SIGTERM)',
    dir: relative(projectRoot, outDir),
    processes: ['client', 'server', 'startup'].map((side) => summariseProfile(join(outDir, `sidecar-${side}.cpuprofile`), 20)),
  };
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (cli.help) {
    process.stdout.write('usage: node bench/bench.ts [--quick] [--out FILE.json] [--only id,id] [--rate N] [--no-pin] [--profile|--no-profile] [--keep-temp] [--source] [--node-flags="..."]\n');
    return 0;
  }
  const base = cli.quick ? QUICK : FULL;
  const rate = cli.rate !== undefined ? Number(cli.rate) : base.latencyRps;
  if (!Number.isInteger(rate) || rate < base.latencyClients) throw new Error(`bench: --rate must be an integer ≥ ${base.latencyClients}`);
  const s: ModeSettings = { ...base, latencyRps: rate, profile: cli['no-profile'] ? false : cli.profile ? true : base.profile };
  const only = cli.only?.split(',').map((x) => x.trim());
  const cases = CASES.filter((c) => only === undefined || only.includes(c.id));
  const netnsCases = NETNS_CASES.filter((c) => only === undefined || only.includes(c.id));
  // "extras": start-up time, rotation and the profile.
  const withExtras = only === undefined || only.includes('extras');
  if (cases.length === 0 && netnsCases.length === 0 && !withExtras) {
    throw new Error(`bench: --only matches nothing; ids: ${[...CASES, ...NETNS_CASES].map((c) => c.id).join(', ')}, extras`);
  }

  const t0 = performance.now();
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const machine = machineInfo();
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const pin = pinning(!cli['no-pin'], machine.nproc);
  if (pin.load !== undefined) execFileSync('taskset', ['-p', '-c', pin.load, String(process.pid)], { stdio: 'ignore' });
  const ghostunnel = ensureGhostunnel();
  const versions = toolVersions(nodeBin, ghostunnel);

  const procs = new ProcessSet();
  const cleanupSync = (): void => procs.killAllSync(cli['keep-temp'] === true);
  process.on('exit', cleanupSync);
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: stopping every started process`);
    procs.killAllSync();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const dir = procs.tempDir('ssb-');
  // nginx workers run unprivileged and must reach their files under it.
  chmodSync(dir, 0o755);
  if (cli['keep-temp']) procs.logTo(join(dir, 'logs'));
  const problems: string[] = [];
  const notes: string[] = [];
  const sidecar = sidecarLaunch(cli.source === true, cli['node-flags'], notes);
  const ctx: BenchContext = { procs, dir, cpu: { load: pin.load, proxies: pin.proxies }, ghostunnel, log, ports: freePorts, sidecar };
  const results: CaseResult[] = [];
  const families: FamilyResult[] = [];
  let readiness: ReadinessResult[] = [];
  let memory: MemoryStage[] = [];
  let rotation: RotationResult | null = null;
  let profile: ProfileSummary | null = null;
  let transparent: TransparentRun | undefined;
  const stamp = startedAt.replace(/[:]/g, '').replace(/-/g, '');
  const resultsDir = join(projectRoot, 'bench', 'results');

  try {
    log(`mode ${cli.quick ? 'quick' : 'full'}; ${pin.note}`);
    log(`sidecars: ${sidecar.note}`);
    const app = await startApp(ctx);
    const agent = await startAgent(ctx, 'agent', '1h');
    const certDir = await writeSvids(ctx, agent);
    log(`app on :${app.h1Port} (HTTP/1.1) and :${app.h2Port} (h2c); dev agent ready; SVIDs written for nginx`);

    for (const famId of FAMILY_IDS) {
      const famCases = cases.filter((c) => c.family === famId);
      if (famCases.length === 0) continue;
      let fam: RunningFamily | undefined;
      try {
        log(`starting ${famId}`);
        fam = await startFamily(famId, { ctx, app, agent, certDir, exchange: famCases.some((c) => c.withExchange === true) });
        await sleep(1_000);
        const idleRssBytes = {
          ...(fam.client ? { client: groupRssBytes(fam.client) } : {}),
          ...(fam.server ? { server: groupRssBytes(fam.server) } : {}),
        };
        const idleHeap = fam.admin ? await heapBySide(fam.admin) : undefined;
        const pids = { ...(fam.client ? { client: fam.client.pids } : {}), ...(fam.server ? { server: fam.server.pids } : {}) };
        const record = (afterLoad?: HeapBySide): FamilyResult => ({
          id: fam!.id,
          label: fam!.label,
          idleRssBytes,
          pids,
          ...(idleHeap ? { sidecarHeap: { idle: idleHeap, ...(afterLoad ? { afterLoad } : {}) } } : {}),
        });
        families.push(record());
        if (famCases.some((c) => c.protocol === 'grpc') && fam.entries.h2) {
          try {
            await grpcUnaryCheck(fam.entries.h2);
          } catch (err) {
            problems.push(`${famId}: gRPC unary check through ${fam.entries.h2} failed: ${String(err)}`);
          }
        }
        // One longer warm-up per family before its first row: without it the first row of a family
        // pays the JIT's warm-up, which made rows measured later on the same pair (the JWT and
        // exchange rows) look faster than the plain row they are compared with.
        if (famId.startsWith('sidecar') && fam.entries.h1) {
          await runWrk(ctx.procs, { url: `${fam.entries.h1}/small`, connections: s.h1Connections, durationS: Math.max(3, 3 * s.warmupS), cpu: ctx.cpu.load });
        }
        for (const spec of famCases) {
          for (const body of spec.bodies) {
            log(`${spec.id} ${body}`);
            const c = await runCase(ctx, spec, body, fam, app, s);
            if (c.throughput.errors > 0 || c.latency.errors > 0) {
              notes.push(failedRequestsNote(c));
            }
            results.push(c);
          }
        }
        if (fam.admin) families[families.length - 1] = record(await heapBySide(fam.admin));
      } catch (err) {
        problems.push(`${famId}: ${err instanceof Error ? err.message : String(err)}`);
        log(`${famId} failed: ${String(err)}`);
      } finally {
        await fam?.stop();
      }
    }

    if (netnsCases.length > 0) {
      log('transparent capture: the sidecar pair in two network-namespace pods');
      const t = await transparentRows(ctx, agent, { ...s, sets: s.transparentSets, setWarmupS: s.transparentWarmupS, setThroughputS: s.transparentThroughputS, bodies: s.transparentBodies }, netnsCases);
      results.push(...t.cases);
      if (t.family) families.push(t.family);
      transparent = t.run;
      if (t.problem !== undefined) {
        problems.push(t.problem);
        log(t.problem);
      }
      if (t.note !== undefined) notes.push(t.note);
    }

    if (withExtras) {
      log('readiness');
      try {
        readiness = await readinessScenario(ctx, app, agent, s.readinessRuns);
      } catch (err) {
        problems.push(`readiness: ${err instanceof Error ? err.message : String(err)}`);
      }
      try {
        memory = await memoryStages(ctx);
      } catch (err) {
        problems.push(`memory stages: ${err instanceof Error ? err.message : String(err)}`);
      }
      log(`rotation (${s.rotationS} s, TTL ${s.rotationTtlMs} ms)`);
      try {
        rotation = await rotationScenario(ctx, app, s);
      } catch (err) {
        problems.push(`rotation: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (s.profile) {
        log('CPU profile of the sidecar pair');
        try {
          profile = await profileScenario(ctx, app, agent, certDir, s, join(resultsDir, `profile-${stamp}`));
        } catch (err) {
          problems.push(`profile: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  } finally {
    await procs.stopAll();
    if (cli['keep-temp']) log(`temp directory kept: ${dir}`);
    else procs.removeDirs();
  }

  // Keep the order of the table, not the order of the runs.
  const tableOrder = [...CASES, ...NETNS_CASES];
  const order = (c: CaseResult): number => tableOrder.findIndex((x) => x.id === c.id) * 2 + (c.body === 'small' ? 0 : 1);
  results.sort((a, b) => order(a) - order(b));
  const record: BenchResults = {
    mode: cli.quick ? 'quick' : 'full',
    startedAt,
    elapsedS: Math.round((performance.now() - t0) / 100) / 10,
    command: cli.quick ? 'make bench-quick' : 'make bench',
    machine,
    loadAverage: { start: loadStart, end: loadavg().map((x) => Math.round(x * 100) / 100) },
    versions,
    pinning: { load: pin.load ?? null, proxies: pin.proxies ?? null, note: pin.note },
    sidecar: { script: relative(projectRoot, sidecar.script), nodeFlags: [...sidecar.nodeFlags], note: sidecar.note },
    settings: {
      warmupS: s.warmupS,
      throughputS: s.throughputS,
      latencyS: s.latencyS,
      h1Connections: s.h1Connections,
      h2Clients: s.h2Clients,
      h2Streams: s.h2Streams,
      latencyRps: s.latencyRps,
      latencyClients: s.latencyClients,
      app: `nginx ${versions.nginx}, 1 worker, fixed bodies from its open file cache (64 B and 16 KiB; gRPC: an 11-byte length-prefixed reply with a grpc-status trailer)`,
    },
    families,
    cases: results,
    readiness,
    memory,
    rotation,
    profile,
    ...(transparent !== undefined ? { transparent } : {}),
    problems,
    notes,
  };
  const markdown = renderReport(record);
  process.stdout.write(markdown);
  const out = cli.out ?? join(resultsDir, `bench-${record.mode}-${stamp}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(record, null, 2) + '\n');
  writeFileSync(out.replace(/\.json$/, '') + '.md', markdown);
  log(`results: ${out}`);
  const rotationFailed = rotation !== null && rotation.failed > 0;
  const unmet = goalRows(record).filter((t) => t.met === false).length;
  if (unmet > 0) log(`${unmet} goal row(s) not met (reported, not enforced)`);
  return problems.length > 0 || rotationFailed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
