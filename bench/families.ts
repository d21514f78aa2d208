/**
 * The proxy set-ups ("families") a benchmark run starts one at a time: the
 * sidecar pair (HTTP/1.1 app, with TCP tunnels), the sidecar pair with an
 * h2c app, the nginx pairs (HTTP/1.1 and HTTP/2), ghostunnel, and "direct"
 * (no proxy). Each start returns where the load generator connects and the
 * process groups of the client and server side.
 */
import { BENCH_AUDIENCE, BENCH_ISSUER, benchToken } from './bench-token.ts';
import { exchangeClientYaml, exchangeServerYaml, startBenchExchange, type BenchExchange } from './bench-exchange.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spawned } from './process-set.ts';
import type { ProcessGroup } from './proc-stats.ts';
import { renderTemplate } from './render-template.ts';
import { waitFor200 } from './readiness-wait.ts';
import {
  CLIENT_ID,
  SERVER_ID,
  nginxDir,
  nodeBin,
  projectRoot,
  startNginx,
  type Agent,
  type App,
  type BenchContext,
} from './bench-context.ts';

/** Where the load generator sends traffic, by kind of entry. */
export interface Entries {
  /** HTTP/1.1 (or L4 carrying HTTP/1.1) base URL. */
  readonly h1?: string;
  /** h2c base URL. */
  readonly h2?: string;
  /** The sidecar's raw TCP tunnel, carrying HTTP/1.1 to the app. */
  readonly tcp?: string;
  /** HTTP/1.1 to the server pod's own address, which the client pod's iptables rules send through its sidecar. */
  readonly captured?: string;
}

/** A started family. */
export interface RunningFamily {
  readonly id: string;
  readonly label: string;
  readonly entries: Entries;
  readonly client?: ProcessGroup;
  readonly server?: ProcessGroup;
  /** Admin base URLs of sidecars (for /metrics). */
  readonly admin?: { readonly client: string; readonly server: string };
  /** The exchange row's subject token, when the family runs an authorization server. */
  readonly exchangeSubjectToken?: string;
  /** The network namespace the load generator runs in (the transparent-capture family's client pod); the harness's own otherwise. */
  readonly netns?: string;
  stop(): Promise<void>;
}

/** Family ids, in run order. */
export const FAMILY_IDS = ['direct', 'sidecar-h1', 'nginx-h1', 'ghostunnel', 'sidecar-h2', 'nginx-h2'] as const;
export type FamilyId = (typeof FAMILY_IDS)[number];

/** The sidecar pair in two network-namespace pods (bench/bench-transparent.ts), started apart from FAMILY_IDS because it needs root. */
export const NETNS_FAMILY_ID = 'sidecar-netns';

/** Inputs every family start needs. */
export interface FamilyInputs {
  readonly ctx: BenchContext;
  readonly app: App;
  readonly agent: Agent;
  /** From writeSvids (nginx only). */
  readonly certDir: string;
  /** Extra node flags for sidecar processes (e.g. --cpu-prof), per side. */
  readonly nodeFlags?: { readonly client: readonly string[]; readonly server: readonly string[] };
  /** Start the authorization server and the exchange route (the sidecar-exchange row). */
  readonly exchange?: boolean;
}

/** A sidecar process started from a rendered config. */
export interface SidecarProc {
  readonly proc: Spawned;
  readonly group: ProcessGroup;
  readonly adminUrl: string;
}

/**
 * Spawns `spiffe-sidecar run --config FILE` pinned to the proxy CPU, with the
 * run's entry script and V8 flags (`ctx.sidecar`: compiled dist/ and the
 * launcher's flags unless --source / --node-flags), or another script;
 * `nodeFlags` come after the run's flags.
 */
export function spawnSidecar(ctx: BenchContext, name: string, configFile: string, nodeFlags: readonly string[] = [], script: string = ctx.sidecar.script): Spawned {
  return ctx.procs.spawn(name, nodeBin, sidecarArgs(ctx, configFile, nodeFlags, script), {
    cpu: ctx.cpu.proxies,
    cwd: projectRoot,
    env: ctx.sidecar.env,
  });
}

/** The arguments after `node` of `spiffe-sidecar run --config FILE` with the run's V8 flags, then `nodeFlags`. */
export function sidecarArgs(ctx: BenchContext, configFile: string, nodeFlags: readonly string[] = [], script: string = ctx.sidecar.script): string[] {
  return ['--disable-warning=ExperimentalWarning', ...ctx.sidecar.nodeFlags, ...nodeFlags, script, 'run', '--config', configFile];
}

/** Ports and files of one sidecar pair. */
export interface SidecarPairPlan {
  readonly clientConfig: string;
  readonly serverConfig: string;
  readonly clientAdmin: number;
  readonly serverAdmin: number;
  readonly outboundPort: number;
  readonly tcpOutboundPort: number;
}

/** Writes the two sidecar configs and the policies; `h2` selects the h2c app and HTTP/2 between the sidecars. */
export async function planSidecarPair(ctx: BenchContext, app: App, agent: Agent, name: string, h2: boolean, exchange?: BenchExchange): Promise<SidecarPairPlan> {
  const [outboundPort, inboundPort, tcpOutboundPort, tcpInboundPort, clientAdmin, serverAdmin] = (await ctx.ports(6)) as [number, number, number, number, number, number];
  const dir = join(ctx.dir, name);
  mkdirSync(dir, { recursive: true });
  const policyFile = join(dir, 'policy-http.yaml');
  const tcpPolicyFile = join(dir, 'policy-tcp.yaml');
  writeFileSync(policyFile, renderTemplate('policy-http.yaml', {}));
  writeFileSync(tcpPolicyFile, renderTemplate('policy-tcp.yaml', {}));
  const clientConfig = join(dir, 'client.yaml');
  const serverConfig = join(dir, 'server.yaml');
  writeFileSync(
    clientConfig,
    renderTemplate('sidecar-client.yaml', {
      socket: agent.clientSocket,
      outboundPort,
      inboundPort,
      upstreamProtocol: h2 ? 'h2' : 'http1',
      tcpOutboundPort,
      tcpInboundPort,
      adminPort: clientAdmin,
      exchange: exchangeClientYaml(exchange, inboundPort, SERVER_ID),
    }),
  );
  writeFileSync(
    serverConfig,
    renderTemplate('sidecar-server.yaml', {
      socket: agent.serverSocket,
      inboundPort,
      appPort: h2 ? app.h2Port : app.h1Port,
      appProtocol: h2 ? 'h2c' : 'http1',
      policyFile,
      tcpInboundPort,
      tcpAppPort: app.h1Port,
      tcpPolicyFile,
      adminPort: serverAdmin,
      jwtIssuer: BENCH_ISSUER,
      jwtAudience: BENCH_AUDIENCE,
      jwtKeysFile: benchToken(ctx).keysFile,
      exchangeProvider: exchangeServerYaml(exchange),
    }),
  );
  return { clientConfig, serverConfig, clientAdmin, serverAdmin, outboundPort, tcpOutboundPort };
}

async function startSidecarPair(inp: FamilyInputs, id: FamilyId, label: string, h2: boolean): Promise<RunningFamily> {
  const { ctx } = inp;
  // The authorization server runs before the server side, which finds its keys by discovery at start.
  const exchange = inp.exchange === true && !h2 ? await startBenchExchange() : undefined;
  let server: Spawned | undefined;
  let client: Spawned | undefined;
  try {
    const plan = await planSidecarPair(ctx, inp.app, inp.agent, id, h2, exchange);
    // Server first, so the client's first dial finds it.
    server = spawnSidecar(ctx, `${id}-server`, plan.serverConfig, inp.nodeFlags?.server);
    await waitFor200(`http://127.0.0.1:${plan.serverAdmin}/readyz`, server, 30_000);
    client = spawnSidecar(ctx, `${id}-client`, plan.clientConfig, inp.nodeFlags?.client);
    await waitFor200(`http://127.0.0.1:${plan.clientAdmin}/readyz`, client, 30_000);
    return sidecarPairFamily(inp, id, label, h2, plan, server, client, exchange);
  } catch (err) {
    await Promise.all([client, server].map((p) => (p === undefined ? undefined : ctx.procs.stop(p))));
    await exchange?.stop();
    throw err;
  }
}

function sidecarPairFamily(
  inp: FamilyInputs,
  id: FamilyId,
  label: string,
  h2: boolean,
  plan: SidecarPairPlan,
  server: Spawned,
  client: Spawned,
  exchange: BenchExchange | undefined,
): RunningFamily {
  const { ctx } = inp;
  const base = `http://127.0.0.1:${plan.outboundPort}`;
  return {
    id,
    label,
    entries: h2 ? { h2: base } : { h1: base, tcp: `http://127.0.0.1:${plan.tcpOutboundPort}` },
    client: { label: 'client', pids: [client.pid] },
    server: { label: 'server', pids: [server.pid] },
    admin: { client: `http://127.0.0.1:${plan.clientAdmin}`, server: `http://127.0.0.1:${plan.serverAdmin}` },
    ...(exchange !== undefined ? { exchangeSubjectToken: exchange.subjectToken } : {}),
    async stop() {
      await Promise.all([ctx.procs.stop(client), ctx.procs.stop(server)]);
      await exchange?.stop();
    },
  };
}

async function startNginxPair(inp: FamilyInputs, id: FamilyId, label: string, h2: boolean): Promise<RunningFamily> {
  const { ctx } = inp;
  const [clientPort, serverPort] = (await ctx.ports(2)) as [number, number];
  const serverName = `${id}-server`;
  const clientName = `${id}-client`;
  const common = { certDir: inp.certDir, clientPort, serverPort, appPort: h2 ? inp.app.h2Port : inp.app.h1Port };
  const server = await startNginx(ctx, serverName, renderTemplate(h2 ? 'nginx-h2-server.conf' : 'nginx-pair-server.conf', { ...common, dir: nginxDir(ctx, serverName) }), [serverPort]);
  const client = await startNginx(ctx, clientName, renderTemplate(h2 ? 'nginx-h2-client.conf' : 'nginx-pair-client.conf', { ...common, dir: nginxDir(ctx, clientName) }), [clientPort]);
  const base = `http://127.0.0.1:${clientPort}`;
  return {
    id,
    label,
    entries: h2 ? { h2: base } : { h1: base },
    client: { ...client.group, label: 'client' },
    server: { ...server.group, label: 'server' },
    async stop() {
      await Promise.all([ctx.procs.stop(client.proc), ctx.procs.stop(server.proc)]);
    },
  };
}

async function startGhostunnel(inp: FamilyInputs): Promise<RunningFamily> {
  const { ctx } = inp;
  const [clientPort, serverPort, clientStatus, serverStatus] = (await ctx.ports(4)) as [number, number, number, number];
  const server = ctx.procs.spawn('ghostunnel-server', ctx.ghostunnel, ghostunnelServerArgs(inp, serverPort, serverStatus), { cpu: ctx.cpu.proxies });
  await waitFor200(`http://127.0.0.1:${serverStatus}/_status`, server, 30_000);
  const client = ctx.procs.spawn('ghostunnel-client', ctx.ghostunnel, ghostunnelArgs('client', clientPort, serverPort, inp.agent.clientSocket, SERVER_ID, clientStatus), {
    cpu: ctx.cpu.proxies,
  });
  await waitFor200(`http://127.0.0.1:${clientStatus}/_status`, client, 30_000);
  return {
    id: 'ghostunnel',
    label: 'ghostunnel pair',
    entries: { h1: `http://127.0.0.1:${clientPort}` },
    client: { label: 'client', pids: [client.pid] },
    server: { label: 'server', pids: [server.pid] },
    async stop() {
      await Promise.all([ctx.procs.stop(client), ctx.procs.stop(server)]);
    },
  };
}

/** Command line of a ghostunnel server fetching its SVID over the Workload API and admitting only the client's ID. */
export function ghostunnelServerArgs(inp: Pick<FamilyInputs, 'app' | 'agent'>, port: number, statusPort: number): string[] {
  return ghostunnelArgs('server', port, inp.app.h1Port, inp.agent.serverSocket, CLIENT_ID, statusPort);
}

/**
 * One ghostunnel end on loopback: listens on `port`, forwards to
 * `targetPort`, takes its SVID from the agent socket `socket` and accepts
 * only the peer `peerId` (a client verifies the server's URI SAN, a server
 * allows the client's), with its status endpoint on `statusPort`.
 */
function ghostunnelArgs(role: 'client' | 'server', port: number, targetPort: number, socket: string, peerId: string, statusPort: number): string[] {
  return [
    role,
    '--listen',
    `127.0.0.1:${port}`,
    '--target',
    `127.0.0.1:${targetPort}`,
    '--use-workload-api-addr',
    `unix://${socket}`,
    role === 'client' ? '--verify-uri' : '--allow-uri',
    peerId,
    '--status',
    `http://127.0.0.1:${statusPort}`,
    '--quiet=conns',
  ];
}

/** Starts family `id`. */
export async function startFamily(id: FamilyId, inp: FamilyInputs): Promise<RunningFamily> {
  switch (id) {
    case 'direct':
      return {
        id,
        label: 'direct',
        entries: { h1: `http://127.0.0.1:${inp.app.h1Port}`, h2: `http://127.0.0.1:${inp.app.h2Port}` },
        async stop() {},
      };
    case 'sidecar-h1':
      return startSidecarPair(inp, id, 'spiffe-sidecar pair (HTTP/1.1 app)', false);
    case 'sidecar-h2':
      return startSidecarPair(inp, id, 'spiffe-sidecar pair (h2c app)', true);
    case 'nginx-h1':
      return startNginxPair(inp, id, 'nginx pair (HTTP/1.1)', false);
    case 'nginx-h2':
      return startNginxPair(inp, id, 'nginx pair (HTTP/2, grpc_pass)', true);
    case 'ghostunnel':
      return startGhostunnel(inp);
  }
}
