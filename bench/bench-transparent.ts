/**
 * The transparent-capture rows of `make bench` (issue 11): one sidecar pair
 * in two pods, each pod a network namespace on a bridge
 * (test/support/netns.ts), with the redirect rules of the product's own
 * `spiffe-sidecar iptables apply`:
 *
 * - client pod: the load generator and the client sidecar; OUTPUT sends
 *   every TCP connection of a uid other than the sidecar's to the outbound
 *   listener.
 * - server pod: the same nginx app configuration as every other row, on
 *   127.0.0.1:8080, and the server sidecar; PREROUTING sends port 8080 to
 *   the inbound listener.
 *
 * Two rows on the same processes: explicit (`sidecar-netns`: the load
 * generator calls the outbound listener with `Host: bench-server`, routed
 * to the server pod's inbound listener; nothing is redirected on either
 * side) and transparent (`sidecar-transparent`: it calls the server pod's
 * IP and port 8080, and both pods' rules redirect). They run in
 * interleaved sets, the order of the two rows alternating from set to
 * set, so a neighbour's burst or the JIT's warm-up falls on both; each
 * row's throughput is its median set.
 *
 * Needs root, `ip`, `iptables`, `setpriv` and the original-destination
 * addon (build/native, made by `make deps`). Everything it creates
 * (namespaces, veths, the bridge, root FORWARD rules, processes, the
 * sockets' ownership) is registered with a Teardown as it is made and
 * removed on success, on failure, and from the process 'exit' hook.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPodNetwork, inNamespace, leftovers, mustRun, type Pod } from '../test/support/netns.ts';
import { Teardown } from '../test/support/teardown.ts';
import { haveTool, inCi, isRoot } from '../test/support/tools.ts';
import type { BodySize, CaseResult, FamilyResult, TransparentRun, TransparentSetRun } from './bench-results.ts';
import { BODY_BYTES, nodeBin, projectRoot, type Agent, type App, type BenchContext } from './bench-context.ts';
import { caseResult, measureLatency, measureThroughput, warmUpCase, type CaseSpec, type LoadSettings, type ThroughputFigures } from './cases.ts';
import { NETNS_FAMILY_ID, sidecarArgs, type RunningFamily } from './families.ts';
import type { Spawned } from './process-set.ts';
import { groupRssBytes, childPids, type ProcessGroup } from './proc-stats.ts';
import { httpText, waitFor200 } from './readiness-wait.ts';
import { renderTemplate } from './render-template.ts';

/** The sidecars' uid in both pods: the OUTPUT rule lets its connections through unredirected. */
export const NETNS_PROXY_UID = 1601;
const INBOUND_PORT = 15006;
const OUTBOUND_PORT = 15001;
const ADMIN_PORT = 15020;
/** The app port in the server pod (the one PREROUTING redirects) and nginx's unused h2c port. */
const APP_PORT = 8080;
const APP_H2_PORT = 8081;
const ADDON = join(projectRoot, 'build', 'native', 'original_dst.node');

/** How the transparent-capture rows are measured. */
export interface TransparentSettings extends LoadSettings {
  /** Interleaved sets (odd, so the median is one set). */
  readonly sets: number;
  /** Throughput seconds of each run of each set, after a warm-up of `setWarmupS` (the pair itself is warm by then). */
  readonly setThroughputS: number;
  readonly setWarmupS: number;
  readonly bodies: readonly BodySize[];
}

/** What {@link transparentRows} measured, or why it did not. */
export interface TransparentOutcome {
  readonly cases: readonly CaseResult[];
  readonly family?: FamilyResult;
  readonly run: TransparentRun;
  /** A failure that makes the run exit 1 (under CI=true a missing requirement is one). */
  readonly problem?: string;
  /** Why the rows were left out on a machine that cannot run them. */
  readonly note?: string;
}

/** What is missing to run the rows here: root, tools, the addon. */
export function missingForTransparent(): string[] {
  const missing = ['ip', 'iptables', 'setpriv'].filter((t) => !haveTool(t));
  if (!isRoot()) missing.push('root privileges');
  if (!existsSync(ADDON)) missing.push('the original-destination addon (build/native/original_dst.node, `make deps`)');
  return missing;
}

/**
 * Runs the rows `specs` (a subset of cases.ts's NETNS_CASES) and removes
 * everything it made. Never throws: a failure is returned as `problem`.
 */
export async function transparentRows(ctx: BenchContext, agent: Agent, s: TransparentSettings, specs: readonly CaseSpec[]): Promise<TransparentOutcome> {
  const missing = missingForTransparent();
  if (missing.length > 0) {
    const why = `needs ${missing.join(', ')}`;
    const run: TransparentRun = { notRun: why, sets: 0, throughputS: 0, warmupS: 0, runs: [] };
    if (inCi) return { cases: [], run, problem: `transparent capture: ${why} (CI=true: a missing requirement fails the run)` };
    return { cases: [], run, note: `The transparent-capture rows did not run: ${why}.` };
  }
  const teardown = new Teardown();
  // Every name the network gets carries the tag, so the leftover check below also covers a failed start.
  const tag = randomBytes(3).toString('hex');
  let failure: string | undefined;
  let out: { cases: CaseResult[]; family: FamilyResult; runs: TransparentSetRun[]; network: string } | undefined;
  try {
    const pair = await startNetnsPair(ctx, agent, teardown, tag);
    out = { ...(await measureSets(ctx, pair, s, specs)), network: pair.network };
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  } finally {
    await teardown.run();
  }
  const left = leftovers(tag);
  const cleanup = [...teardown.problems, ...left.map((l) => `left behind: ${l}`)];
  const problem =
    failure !== undefined || cleanup.length > 0 ? `transparent capture: ${[...(failure !== undefined ? [failure] : []), ...cleanup].join('; ')}` : undefined;
  const base = { sets: s.sets, throughputS: s.setThroughputS, warmupS: s.setWarmupS };
  if (out === undefined) return { cases: [], run: { ...base, notRun: `failed: ${failure ?? 'unknown'}`, runs: [] }, ...(problem ? { problem } : {}) };
  return { cases: out.cases, family: out.family, run: { ...base, network: out.network, runs: out.runs }, ...(problem ? { problem } : {}) };
}

/** The running pair: the family the cases measure, the namespaced app, and a description for the report. */
interface NetnsPair {
  readonly family: RunningFamily;
  readonly app: App;
  readonly network: string;
}

/** `argv` inside `pod`, as the sidecar's uid when `asProxy`, with every process registered for teardown. */
function spawnInPod(ctx: BenchContext, teardown: Teardown, name: string, pod: Pod, argv: readonly string[], asProxy: boolean): Spawned {
  const who = asProxy ? { uid: NETNS_PROXY_UID, gid: NETNS_PROXY_UID } : undefined;
  const [cmd, ...args] = inNamespace(pod.ns, argv, who);
  // `ip netns exec` and setpriv exec the command: the pid, its process group, the CPU pinning and the
  // environment (the sidecars': SIDECAR_ENV) are the command's.
  const p = ctx.procs.spawn(name, cmd!, args, { cpu: ctx.cpu.proxies, cwd: projectRoot, env: asProxy ? ctx.sidecar.env : process.env });
  teardown.add(
    `stop ${name}`,
    () => {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    async () => void (await ctx.procs.stop(p)),
  );
  return p;
}

/** Resolves once a process in `pid`'s network namespace listens on 127.0.0.1:`port` (from /proc/<pid>/net/tcp) and nginx has a worker. */
async function waitForNsListener(p: Spawned, port: number, timeoutMs: number): Promise<number[]> {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let listening = false;
    try {
      listening = readFileSync(`/proc/${p.pid}/net/tcp`, 'utf8')
        .split('\n')
        .some((l) => {
          const f = l.trim().split(/\s+/);
          return f[1] === want && f[3] === '0A';
        });
    } catch {
      // not started yet, or gone: the checks below say which
    }
    const workers = childPids(p.pid);
    if (listening && workers.length > 0) return workers;
    if (!p.running()) throw new Error(`bench: ${p.name} exited:\n${p.output()}`);
    if (performance.now() > deadline) throw new Error(`bench: ${p.name} not listening on 127.0.0.1:${port} after ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One GET from inside the client pod (as root, so the capture applies); throws unless it answers 200 with `bytes` bytes. */
async function probe(pod: Pod, url: string, host: string | undefined, bytes: number): Promise<void> {
  const u = new URL(url);
  const code =
    `const r=require('node:http').get({host:${JSON.stringify(u.hostname)},port:${u.port},path:${JSON.stringify(u.pathname)},agent:false,timeout:5000` +
    `${host === undefined ? '' : `,headers:{host:${JSON.stringify(host)}}`}},(res)=>{let n=0;res.on('data',(d)=>n+=d.length);` +
    `res.on('end',()=>{console.log(res.statusCode+' '+n);process.exit(res.statusCode===200&&n===${bytes}?0:1)})});` +
    `r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',(e)=>{console.log(String(e));process.exit(1)})`;
  const out = await mustRun(inNamespace(pod.ns, [nodeBin, '-e', code]), 15_000).catch((err: unknown) => {
    throw new Error(`GET ${url}${host ? ` (Host: ${host})` : ''} from the client pod failed: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (!out.startsWith('200 ')) throw new Error(`GET ${url} from the client pod: ${out.trim()}`);
}

/** Sum of every sample of `name` on a Prometheus text page. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/**
 * Makes the two pods, installs the rules, starts the app and the sidecars,
 * and checks that both paths answer (the transparent one only can if both
 * redirects work: the app listens on the server pod's loopback only).
 */
async function startNetnsPair(ctx: BenchContext, agent: Agent, teardown: Teardown, tag: string): Promise<NetnsPair> {
  const net = await createPodNetwork({ pods: ['client', 'server'], teardown, tag });
  const client = net.pod('client');
  const server = net.pod('server');
  ctx.log(`transparent capture: bridge ${net.bridge} ${net.subnet}, client pod ${client.ip}, server pod ${server.ip}`);

  const script = ctx.sidecar.script;
  const apply = (pod: Pod, inboundPorts: string): Promise<string> =>
    mustRun(
      inNamespace(pod.ns, [
        nodeBin,
        '--disable-warning=ExperimentalWarning',
        script,
        'iptables',
        'apply',
        '--proxy-uid',
        String(NETNS_PROXY_UID),
        '--inbound-port',
        String(INBOUND_PORT),
        '--outbound-port',
        String(OUTBOUND_PORT),
        '--admin-port',
        String(ADMIN_PORT),
        '--inbound-ports',
        inboundPorts,
        '--no-ipv6',
      ]),
      60_000,
    );
  // The rules live in the pods' namespaces and go with them.
  await Promise.all([apply(client, ''), apply(server, String(APP_PORT))]);

  // The sidecars run as NETNS_PROXY_UID: the dev agent's sockets (mode 0600) become that uid's for the family's lifetime.
  for (const socket of [agent.clientSocket, agent.serverSocket]) {
    chownSync(socket, NETNS_PROXY_UID, NETNS_PROXY_UID);
    teardown.add(`give ${socket} back to root`, () => {
      if (existsSync(socket)) chownSync(socket, 0, 0);
    });
  }

  const dir = join(ctx.dir, NETNS_FAMILY_ID);
  const www = join(dir, 'www');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  mkdirSync(www, { recursive: true });
  for (const d of [dir, join(dir, 'tmp'), www]) chmodSync(d, 0o755);
  writeFileSync(join(www, 'small'), 'x'.repeat(BODY_BYTES.small));
  writeFileSync(join(www, '16k'), 'y'.repeat(BODY_BYTES['16k']));
  const appConf = join(dir, 'nginx-app.conf');
  writeFileSync(appConf, renderTemplate('nginx-app.conf', { dir, www, h1Port: APP_PORT, h2Port: APP_H2_PORT }));
  const nginx = spawnInPod(ctx, teardown, 'netns-app-nginx', server, ['nginx', '-p', dir, '-c', appConf, '-e', join(dir, 'startup-error.log'), '-g', 'daemon off;'], false);
  const workers = await waitForNsListener(nginx, APP_PORT, 10_000);

  const policyFile = join(dir, 'policy-http.yaml');
  writeFileSync(policyFile, renderTemplate('policy-http.yaml', {}));
  const serverConfig = join(dir, 'server.yaml');
  const clientConfig = join(dir, 'client.yaml');
  writeFileSync(serverConfig, renderTemplate('sidecar-netns-server.yaml', { socket: agent.serverSocket, inboundPort: INBOUND_PORT, appPort: APP_PORT, policyFile, adminPort: ADMIN_PORT }));
  writeFileSync(
    clientConfig,
    renderTemplate('sidecar-netns-client.yaml', { socket: agent.clientSocket, outboundPort: OUTBOUND_PORT, serverIp: server.ip, inboundPort: INBOUND_PORT, adminPort: ADMIN_PORT }),
  );
  // Both at once: the client's readiness does not depend on the server (it dials per request).
  const serverProc = spawnInPod(ctx, teardown, 'netns-server-sidecar', server, [nodeBin, ...sidecarArgs(ctx, serverConfig)], true);
  const clientProc = spawnInPod(ctx, teardown, 'netns-client-sidecar', client, [nodeBin, ...sidecarArgs(ctx, clientConfig)], true);
  await Promise.all([waitFor200(`http://${server.ip}:${ADMIN_PORT}/readyz`, serverProc, 30_000), waitFor200(`http://${client.ip}:${ADMIN_PORT}/readyz`, clientProc, 30_000)]);

  const explicitUrl = `http://127.0.0.1:${OUTBOUND_PORT}`;
  const capturedUrl = `http://${server.ip}:${APP_PORT}`;
  await probe(client, `${explicitUrl}/small`, 'bench-server', BODY_BYTES.small);
  await probe(client, `${capturedUrl}/small`, undefined, BODY_BYTES.small);
  const classified = metricSum(await httpText(`http://${client.ip}:${ADMIN_PORT}/metrics`), 'sidecar_outbound_classified_total');
  if (classified < 1) throw new Error('the request to the server pod answered, but the client sidecar classified no redirected connection: the capture is not in effect');

  const family: RunningFamily = {
    id: NETNS_FAMILY_ID,
    label: 'spiffe-sidecar pair in two netns pods (explicit and transparent rows)',
    entries: { h1: explicitUrl, captured: capturedUrl },
    client: { label: 'client', pids: [clientProc.pid] },
    server: { label: 'server', pids: [serverProc.pid] },
    admin: { client: `http://${client.ip}:${ADMIN_PORT}`, server: `http://${server.ip}:${ADMIN_PORT}` },
    netns: client.ns,
    async stop() {
      await Promise.all([ctx.procs.stop(clientProc), ctx.procs.stop(serverProc), ctx.procs.stop(nginx)]);
    },
  };
  const appGroup: ProcessGroup = { label: 'app', pids: [nginx.pid, ...workers] };
  const app: App = { h1Port: APP_PORT, h2Port: APP_H2_PORT, group: appGroup, grpcRequestFile: '' };
  const network =
    `bridge ${net.bridge} (${net.subnet}); client pod ${client.ip}: load generator + client sidecar, outbound listener 127.0.0.1:${OUTBOUND_PORT}; ` +
    `server pod ${server.ip}: nginx on 127.0.0.1:${APP_PORT}, inbound listener :${INBOUND_PORT}; sidecars as uid ${NETNS_PROXY_UID}; rules from \`spiffe-sidecar iptables apply --no-ipv6\``;
  return { family, app, network };
}

/** The run whose throughput is the median of `xs` (the lower middle for an even count). */
function medianRun(xs: readonly ThroughputFigures[]): ThroughputFigures {
  return [...xs].sort((a, b) => a.rps - b.rps)[Math.floor((xs.length - 1) / 2)]!;
}

/**
 * Interleaved sets: in set k, at each body size, both rows run back to back
 * (warm-up, then throughput), explicit first in odd sets and transparent
 * first in even ones. Latency at the fixed rate once per row and body, after
 * the sets.
 */
async function measureSets(ctx: BenchContext, pair: NetnsPair, s: TransparentSettings, specs: readonly CaseSpec[]): Promise<{ cases: CaseResult[]; family: FamilyResult; runs: TransparentSetRun[] }> {
  const { family: fam, app } = pair;
  const idleRssBytes = { client: groupRssBytes(fam.client!), server: groupRssBytes(fam.server!) };
  const familyRecord: FamilyResult = { id: fam.id, label: fam.label, idleRssBytes, pids: { client: fam.client!.pids, server: fam.server!.pids } };
  // One longer warm-up, as the other sidecar families get before their first row (not for a one-set smoke).
  if (s.sets > 1) await warmUpCase(ctx, specs[0]!, 'small', fam, app, { ...s, warmupS: Math.max(3, 3 * s.warmupS) });
  const runs: TransparentSetRun[] = [];
  const figures = new Map<string, ThroughputFigures[]>();
  for (let set = 1; set <= s.sets; set++) {
    const order = set % 2 === 1 ? specs : [...specs].reverse();
    for (const body of s.bodies) {
      for (const spec of order) {
        ctx.log(`${spec.id} ${body}, set ${set} of ${s.sets}`);
        await warmUpCase(ctx, spec, body, fam, app, { ...s, warmupS: s.setWarmupS });
        const tp = await measureThroughput(ctx, spec, body, fam, app, s, s.setThroughputS);
        const cpuUsPerRequest = { client: tp.client?.cpuUsPerRequest ?? Number.NaN, server: tp.server?.cpuUsPerRequest ?? Number.NaN };
        runs.push({ set, body, id: spec.id, first: spec === order[0], rps: tp.rps, errors: tp.errors, cpuUsPerRequest });
        const key = `${spec.id} ${body}`;
        figures.set(key, [...(figures.get(key) ?? []), tp]);
      }
    }
  }
  const cases: CaseResult[] = [];
  for (const body of s.bodies) {
    for (const spec of specs) {
      ctx.log(`${spec.id} ${body}, latency`);
      const latency = await measureLatency(ctx, spec, body, fam, app, s);
      cases.push(caseResult(spec, body, medianRun(figures.get(`${spec.id} ${body}`)!), latency));
    }
  }
  return { cases, family: familyRecord, runs };
}
