/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time per
 * function and per origin (our code, each npm package, Node's own
 * JavaScript, V8 natives, GC), as percentages of busy (non-idle) time.
 *
 * Library: {@link summariseProfile}. Script:
 *   node bench/cpu-profile-summary.ts FILE.cpuprofile [more...] [--top N]
 * prints a markdown table per file.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';

/** The parts of the .cpuprofile format this reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** One function's (or origin's) share. */
export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  /** Percent of busy time (everything but `(idle)`). */
  readonly busyPct: number;
  /** Native functions only: the nearest caller outside Node's own JavaScript, with its share of this function's self time. */
  readonly calledFrom?: readonly { readonly caller: string; readonly pct: number }[];
}

/** Summary of one profile. */
export interface ProcessProfile {
  readonly file: string;
  readonly wallMs: number;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly origins: readonly SelfTime[];
  /** Self time per script (file or node: module). */
  readonly files: readonly SelfTime[];
  readonly top: readonly SelfTime[];
}

/** Summaries of the profiled processes, with how the load was generated. */
export interface ProfileSummary {
  readonly scenario: string;
  /** Where the .cpuprofile files are, relative to the project root. */
  readonly dir: string;
  readonly processes: readonly ProcessProfile[];
}

/** How to read the figures; printed with every summary. */
export const PROFILE_CAVEAT =
  "V8 samples by wall clock: while a process is preempted by its peers on the shared core, the time is charged to the function that was running, most often the socket write that woke the peer. The native write shares are therefore inflated; the user/kernel CPU split per request in the table above is the CPU truth.";

const projectRoot = resolve(import.meta.dirname, '..');

/** Shortens a script URL: project-relative, `pkg/...` inside node_modules, `node:` as is. */
function shortUrl(url: string): string {
  if (url === '') return '';
  let u = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  if (u.startsWith(projectRoot + '/')) u = u.slice(projectRoot.length + 1);
  return u;
}

/** Names of wasm modules for the profile being summarised (see originOf). */
let wasmOrigin = new Map<string, string>();

/** Which origin a frame belongs to. */
function originOf(functionName: string, url: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)' || functionName === '(program)' || functionName === '(idle)') return functionName;
    return '(native: V8 builtins, C++ bindings)';
  }
  if (url.startsWith('node:')) return 'Node.js JavaScript (node:*)';
  // Two WebAssembly modules run in a sidecar: Node's TypeScript type
  // stripper (amaro, swc) while modules load, and undici's llhttp parser.
  // Their URLs are content hashes; summariseProfile names them by caller.
  if (url.startsWith('wasm://')) return wasmOrigin.get(url) ?? `wasm: ${url}`;
  const s = shortUrl(url);
  if (s.startsWith('sidecar/')) {
    const parts = s.split('/');
    return parts.length > 2 ? `project: ${parts[0]}/${parts[1]}/` : `project: ${s}`;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return `npm: ${parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  return `other: ${s}`;
}

/** Aggregates self time by function and by origin; `topN` functions are kept. */
export function summariseProfile(file: string, topN = 20): ProcessProfile {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  // Name each wasm module after the JavaScript that calls into it.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nodeById = new Map(p.nodes.map((n) => [n.id, n]));
  wasmOrigin = new Map();
  for (const n of p.nodes) {
    const u = n.callFrame.url;
    if (!u.startsWith('wasm://') || wasmOrigin.has(u)) continue;
    let q = parent.get(n.id);
    while (q !== undefined) {
      const cf = nodeById.get(q)!.callFrame;
      if (cf.url !== '' && !cf.url.startsWith('wasm://')) break;
      q = parent.get(q);
    }
    const caller = q === undefined ? '' : nodeById.get(q)!.callFrame.url;
    if (caller.includes('amaro')) wasmOrigin.set(u, 'wasm: TypeScript type stripping (amaro/swc)');
    else if (caller.includes('/undici/')) wasmOrigin.set(u, 'wasm: undici llhttp parser');
    else if (caller !== '') wasmOrigin.set(u, `wasm called from ${shortUrl(caller)}`);
  }
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the gap before sample i, so the time a sample stands for is the next gap.
  for (let i = 0; i < p.samples.length; i++) {
    const next = p.timeDeltas[i + 1] ?? 0;
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next));
  }
  const fns = new Map<string, { name: string; where: string; us: number; callers: Map<string, number> }>();
  const origins = new Map<string, number>();
  const files = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id);
    if (!cf) continue;
    totalUs += us;
    if (cf.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const name = cf.functionName || '(anonymous)';
    const where = cf.url === '' ? '' : `${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
    const key = `${name}\u0000${where}`;
    const f = fns.get(key) ?? { name, where, us: 0, callers: new Map<string, number>() };
    f.us += us;
    fns.set(key, f);
    if (cf.url === '') {
      // Walk up to the first frame that is not Node's own JavaScript (streams, net, http).
      let q = parent.get(id);
      while (q !== undefined) {
        const pcf = nodeById.get(q)!.callFrame;
        if (pcf.url !== '' && !pcf.url.startsWith('node:') && !pcf.url.startsWith('wasm://')) break;
        q = parent.get(q);
      }
      const c = q === undefined ? '(no JavaScript caller)' : `${nodeById.get(q)!.callFrame.functionName || '(anonymous)'} ${shortUrl(nodeById.get(q)!.callFrame.url)}:${nodeById.get(q)!.callFrame.lineNumber + 1}`;
      f.callers.set(c, (f.callers.get(c) ?? 0) + us);
    }
    const o = originOf(cf.functionName, cf.url);
    origins.set(o, (origins.get(o) ?? 0) + us);
    const file = cf.url === '' ? o : cf.url.startsWith('wasm://') ? o : shortUrl(cf.url);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number): number => (busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0);
  const ms = (us: number): number => Math.round(us / 100) / 10;
  return {
    file: basename(file),
    wallMs: ms(p.endTime - p.startTime),
    busyMs: ms(busyUs),
    idleMs: ms(idleUs),
    origins: [...origins]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, where: '', selfMs: ms(us), busyPct: pct(us) })),
    files: [...files]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([name, us]) => ({ name, where: '', selfMs: ms(us), busyPct: pct(us) })),
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({
        name: f.name,
        where: f.where,
        selfMs: ms(f.us),
        busyPct: pct(f.us),
        ...(f.callers.size > 0
          ? {
              calledFrom: [...f.callers]
                .sort((a, b) => b[1] - a[1])
                .slice(0, 2)
                .map(([caller, us]) => ({ caller, pct: f.us > 0 ? Math.round((us / f.us) * 100) : 0 })),
            }
          : {}),
      })),
  };
}

/** Markdown tables (origins, then top functions) for one profile. */
export function profileMarkdown(p: ProcessProfile, topN = 15): string {
  const lines = [
    `**${p.file}**: ${p.wallMs} ms profiled, ${p.busyMs} ms busy (${p.idleMs} ms idle). Self time as % of busy time; origins under 0.5 % left out.`,
    '',
    '| Origin | Self ms | % busy |',
    '|---|---:|---:|',
    ...p.origins.filter((o) => o.busyPct >= 0.5).map((o) => `| ${o.name} | ${o.selfMs} | ${o.busyPct} |`),
    '',
    '| Script | Self ms | % busy |',
    '|---|---:|---:|',
    ...p.files.slice(0, topN).map((f) => `| \`${f.name}\` | ${f.selfMs} | ${f.busyPct} |`),
    '',
    '| Function | Where | Self ms | % busy |',
    '|---|---|---:|---:|',
    ...p.top.slice(0, topN).map((f) => {
      const callers = f.calledFrom?.filter((c) => c.caller !== '(no JavaScript caller)').map((c) => `\`${c.caller}\` ${c.pct} %`) ?? [];
      const where = f.where ? `\`${f.where}\`` : callers.length > 0 ? `(native) via ${callers.join(', ')}` : '(native)';
      return `| \`${f.name}\` | ${where} | ${f.selfMs} | ${f.busyPct} |`;
    }),
  ];
  return lines.join('\n');
}

function main(argv: readonly string[]): void {
  let topN = 15;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') topN = Number(argv[++i]);
    else files.push(argv[i]!);
  }
  if (files.length === 0 || !Number.isInteger(topN) || topN < 1) {
    process.stderr.write('usage: node bench/cpu-profile-summary.ts FILE.cpuprofile [...] [--top N]\n');
    process.exitCode = 2;
    return;
  }
  for (const f of files) process.stdout.write(profileMarkdown(summariseProfile(f, topN), topN) + '\n\n');
}

if (import.meta.main) main(process.argv.slice(2));
