/**
 * Turns a run's results into the markdown printed on stdout: machine and
 * versions, throughput and latency with ratios to direct and to the nginx
 * pair, per-process CPU and memory, start-up and rotation, the goals of
 * bench/goals.ts (met / not met, reported, not enforced), and the CPU
 * profile summary.
 */
import type { BenchResults, CaseResult, SideFigures, TransparentRun } from './bench-results.ts';
import { PROFILE_CAVEAT, profileMarkdown } from './cpu-profile-summary.ts';
import { goalRows } from './goals.ts';

const MiB = 2 ** 20;

/** Grouped thousands, no decimals. */
function int(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a';
}

function fixed(x: number | undefined, digits: number): string {
  return x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function ratio(x: number | undefined, base: number | undefined): string {
  if (x === undefined || base === undefined || !Number.isFinite(x) || !Number.isFinite(base) || base === 0) return '–';
  return `${(x / base).toFixed(2)}`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '–' : (bytes / MiB).toFixed(1);
}

/** The row a case is compared with, at the same body size. */
function find(r: BenchResults, id: string, body: string): CaseResult | undefined {
  return r.cases.find((c) => c.id === id && c.body === body);
}

function bodyLabel(c: CaseResult): string {
  if (c.protocol === 'grpc') return `${c.bodyBytes} B msg`;
  return c.body === 'small' ? `${c.bodyBytes} B` : '16 KiB';
}

/** "value (×direct / ×nginx)". */
function withRatios(value: string, x: number, d: number | undefined, n: number | undefined): string {
  return `${value} (${ratio(x, d)} / ${ratio(x, n)})`;
}

function throughputTable(r: BenchResults): string[] {
  const lines = [
    '| Scenario | Protocol | Body | Throughput req/s | p50 ms | p90 ms | p99 ms | Errors (tp / lat) |',
    '|---|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const c of r.cases) {
    const d = find(r, c.directId, c.body);
    const n = find(r, c.nginxId, c.body);
    const l = c.latency;
    lines.push(
      `| ${c.label} | ${c.protocol} | ${bodyLabel(c)} | ${withRatios(int(c.throughput.rps), c.throughput.rps, d?.throughput.rps, n?.throughput.rps)} | ` +
        `${withRatios(fixed(l.p50Ms, 2), l.p50Ms, d?.latency.p50Ms, n?.latency.p50Ms)} | ` +
        `${withRatios(fixed(l.p90Ms, 2), l.p90Ms, d?.latency.p90Ms, n?.latency.p90Ms)} | ` +
        `${withRatios(fixed(l.p99Ms, 2), l.p99Ms, d?.latency.p99Ms, n?.latency.p99Ms)} | ${c.throughput.errors} / ${c.latency.errors} |`,
    );
  }
  return lines;
}

function resourceTable(r: BenchResults): string[] {
  const lines = [
    '| Scenario | Protocol | Body | CPU µs/req client | CPU µs/req server | app µs/req | RSS idle MiB client / server | RSS peak under load MiB client / server |',
    '|---|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const c of r.cases) {
    const n = find(r, c.nginxId, c.body);
    const fam = r.families.find((f) => f.id === c.family);
    const nfam = n ? r.families.find((f) => f.id === n.family) : undefined;
    const t = c.throughput;
    const cpu = (x: SideFigures | undefined, base: number | undefined): string =>
      x === undefined ? '–' : `${fixed(x.cpuUsPerRequest, 1)} (${ratio(x.cpuUsPerRequest, base)}) ${fixed(x.userUsPerRequest, 0)}+${fixed(x.sysUsPerRequest, 0)}`;
    const mem = (x: number | undefined, base: number | undefined): string => (x === undefined ? '–' : `${mib(x)} (${ratio(x, base)})`);
    lines.push(
      `| ${c.label} | ${c.protocol} | ${bodyLabel(c)} | ${cpu(t.client, n?.throughput.client?.cpuUsPerRequest)} | ` +
        `${cpu(t.server, n?.throughput.server?.cpuUsPerRequest)} | ${fixed(t.appCpuUsPerRequest, 1)} | ` +
        `${mem(fam?.idleRssBytes.client, nfam?.idleRssBytes.client)} / ${mem(fam?.idleRssBytes.server, nfam?.idleRssBytes.server)} | ` +
        `${mem(t.client?.rssPeakBytes, n?.throughput.client?.rssPeakBytes)} / ${mem(t.server?.rssPeakBytes, n?.throughput.server?.rssPeakBytes)} |`,
    );
  }
  return lines;
}

/**
 * The transparent-capture rows' own section: how they ran, each set's
 * throughput of the two rows and their ratio, or why they did not run.
 */
function transparentSection(t: TransparentRun): string[] {
  const lines = ['', '### Transparent capture (issue 11)', ''];
  if (t.notRun !== undefined) return [...lines, `Not measured in this run: ${t.notRun}.`];
  lines.push(
    `${t.network ?? ''}.`,
    '',
    `Explicit: the load generator calls the client sidecar's outbound listener with \`Host: bench-server\` (routed to the server pod's inbound listener; nothing redirected). ` +
      `Transparent: it calls the server pod's IP and app port; both pods' iptables rules redirect. Same processes, ${t.sets} interleaved set(s); ` +
      `in each, at each body size, the two rows run back to back (${t.warmupS} s warm-up, ${t.throughputS} s measured), the first alternating from set to set. ` +
      'The tables above show each row\'s median set and one latency run; the goal is the median of the per-set ratios.',
    '',
    '| Set | Body | Explicit req/s | Transparent req/s | Transparent ÷ explicit | CPU µs/req client + server, explicit / transparent |',
    '|---:|---|---:|---:|---:|---:|',
  );
  const keys = [...new Set(t.runs.map((r) => `${r.set} ${r.body}`))];
  for (const k of keys) {
    const [set, body] = k.split(' ');
    const e = t.runs.find((r) => `${r.set} ${r.body}` === k && r.id === 'sidecar-netns');
    const x = t.runs.find((r) => `${r.set} ${r.body}` === k && r.id === 'sidecar-transparent');
    const first = e?.first ? ' (first)' : '';
    const xFirst = x?.first ? ' (first)' : '';
    const cpu = (y: typeof e): string => (y === undefined ? '–' : `${fixed(y.cpuUsPerRequest.client, 1)} + ${fixed(y.cpuUsPerRequest.server, 1)}`);
    lines.push(`| ${set} | ${body === 'small' ? '64 B' : '16 KiB'} | ${e ? int(e.rps) + first : '–'} | ${x ? int(x.rps) + xFirst : '–'} | ${ratio(x?.rps, e?.rps)} | ${cpu(e)} / ${cpu(x)} |`);
  }
  const errors = t.runs.reduce((a, x) => a + x.errors, 0);
  if (errors > 0) lines.push('', `${errors} request(s) failed over the sets (wrk non-2xx and socket errors).`);
  return lines;
}

/** The full markdown report. */
export function renderReport(r: BenchResults): string {
  const m = r.machine;
  const v = r.versions;
  const s = r.settings;
  const lines: string[] = [
    `## spiffe-sidecar benchmark, ${r.mode} mode, ${r.startedAt}`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Linux ${m.kernel}. Run took ${Math.round(r.elapsedS)} s: \`${r.command}\`.`,
    `Load average (1/5/15 min) before the run ${r.loadAverage.start.join(' / ')}, after ${r.loadAverage.end.join(' / ')} (before: other work sharing the machine; after: includes the benchmark's own load).`,
    `Pinning: ${r.pinning.note}`,
    ...(r.sidecar ? [`Sidecars: ${r.sidecar.note}`] : []),
    `Versions: node ${v.node}, nginx ${v.nginx}, ghostunnel ${v.ghostunnel}, wrk ${v.wrk}, h2load ${v.h2load}, ${v.openssl}, go ${v.go}.`,
    `App: ${s.app}.`,
    `Throughput: HTTP/1.1 with \`wrk -t1 -c${s.h1Connections}\`, h2c and gRPC with \`h2load -t1 -c${s.h2Clients} -m${s.h2Streams}\`; ${s.throughputS} s after a ${s.warmupS} s warm-up.`,
    `Latency: \`h2load --rps\` (\`--h1\` for HTTP/1.1), ${s.latencyClients} connections × ${s.latencyRps / s.latencyClients} req/s = ${s.latencyRps} req/s offered to every row, ${s.latencyS} s after 1 s warm-up; percentiles over every request of h2load's log.`,
    '',
    '### Throughput and latency',
    '',
    'Each cell: value (× direct / × nginx pair), against the rows of the same protocol and body size; for latency a ratio above 1 is slower.',
    '',
    ...throughputTable(r),
    '',
    '### Per proxy process',
    '',
    'client = the proxy the load generator talks to; server = the one in front of the app. CPU: utime+stime from /proc/<pid>/stat over the throughput run ÷ requests. ' +
      'RSS: VmRSS from /proc/<pid>/status, idle = after start-up and 1 s settle, peak = highest 100 ms sample during the throughput run. ' +
      'nginx sides are master + worker summed. CPU cells: total µs/req (× the nginx pair of the same protocol and body) then user+kernel µs/req; RSS cells: MiB (× the nginx pair).',
    '',
    ...resourceTable(r),
    '',
    '### Start-up and SVID rotation',
    '',
    '| Figure | Value |',
    '|---|---|',
  ];
  for (const x of r.readiness) {
    const until = x.endpoint === 'exit' ? 'exit' : `${x.endpoint} 200`;
    const rss = x.rssAfterReadyBytes === null ? '' : `; RSS 1 s after ready ${mib(x.rssAfterReadyBytes)} MiB`;
    lines.push(`| ${x.what}: spawn → ${until}, median of ${x.runsMs.length} (min–max) | ${int(x.medianMs)} ms (${int(x.minMs)}–${int(x.maxMs)})${rss} |`);
  }
  for (const m of r.memory) lines.push(`| Idle RSS, stage by stage: ${m.what} | ${mib(m.rssBytes)} MiB |`);
  if (r.rotation) {
    const rot = r.rotation;
    const total = rot.streams.reduce((a, x) => a + x.sent, 0);
    const streams = rot.streams
      .map((x) => {
        const c = rot.control.find((y) => y.name === x.name);
        const ctl = c ? ` (no rotation: ${fixed(c.p50Ms, 1)} / ${fixed(c.p99Ms, 1)} ms, ${c.failed} failed)` : '';
        return `${x.name}: ${x.failed} of ${int(x.sent)} at ${x.rps} req/s, p50 / p99 ${fixed(x.p50Ms, 1)} / ${fixed(x.p99Ms, 1)} ms${ctl}`;
      })
      .join('; ');
    lines.push(
      `| Requests failed during SVID rotation (dev agent TTL ${rot.svidTtlMs / 1000} s, rotation every ${rot.svidTtlMs / 2000} s, ${rot.durationS} s of load) | ` +
        `**${rot.failed} of ${int(total)}** (${streams}); rotations: dev agent ${rot.agentRotations}, sidecars ${rot.sidecarRotations.client ?? '?'} / ${rot.sidecarRotations.server ?? '?'} |`,
    );
  }
  const goals = goalRows(r);
  const unmet = goals.filter((g) => g.met === false).length;
  lines.push(
    '',
    '### Goals (bench/goals.ts; reported, not enforced)',
    '',
    `${goals.filter((g) => g.met === true).length} met, ${unmet} not met, ${goals.filter((g) => g.met === undefined).length} not measured. ` +
      'Ratios compare pairs measured side by side in this run.' +
      (r.mode === 'quick' ? ' Quick mode: a few seconds per row, so the figures are noisy; judge goals on `make bench`.' : ''),
    '',
    '| Goal | Row | Measured | Met |',
    '|---|---|---|---|',
  );
  for (const g of goals) lines.push(`| ${g.goal} | ${g.row} | ${g.measured} | ${g.met === undefined ? 'n/a' : g.met ? 'met' : '**not met**'} |`);
  if (r.transparent !== undefined) lines.push(...transparentSection(r.transparent));
  if (r.profile) {
    lines.push('', `### CPU profile: ${r.profile.scenario}`, '', `Files: \`${r.profile.dir}/\`. ${PROFILE_CAVEAT}`, '');
    for (const p of r.profile.processes) lines.push(profileMarkdown(p, 12), '');
  }
  if (r.notes.length > 0) {
    lines.push('', '### Notes', '', ...r.notes.map((n) => `- ${n}`));
  }
  if (r.problems.length > 0) {
    lines.push('', '### Problems', '', ...r.problems.map((p) => `- ${p}`));
  }
  return lines.join('\n') + '\n';
}
