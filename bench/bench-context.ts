/**
 * What every part of a benchmark run shares: the process set, the temp
 * directory, CPU pinning, tool paths, the upstream app and the dev agent.
 */
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProcessSet, Spawned } from './process-set.ts';
import { childPids, type ProcessGroup } from './proc-stats.ts';
import { renderTemplate } from './render-template.ts';
import { waitFor200, waitForPort } from './readiness-wait.ts';
import { missingEnv } from '../bin/node-flags.js';

/** The project root (bench/..). */
export const projectRoot = resolve(import.meta.dirname, '..');
/** Node 24 from node_modules, never the system node. */
export const nodeBin = join(projectRoot, 'node_modules', '.bin', 'node');
/** The sidecar's CLI entry point, TypeScript source. */
export const mainScript = join(projectRoot, 'sidecar', 'cli', 'main.ts');
/** The bundled CLI that bin/spiffe-sidecar.js and the image run in production (made by `make build`, bin/build.js). */
export const compiledMain = join(projectRoot, 'dist', 'bin', 'main.js');

/** How the benchmark starts `spiffe-sidecar run`. */
export interface SidecarLaunch {
  /** dist/bin/main.js (production) or sidecar/cli/main.ts (--source). */
  readonly script: string;
  /** Node flags before the script: the launcher's V8 flags (bin/node-flags.js) unless --node-flags replaced them. */
  readonly nodeFlags: readonly string[];
  /** The sidecars' environment: this process's, with the launcher's SIDECAR_ENV (bin/node-flags.js) where it sets none. */
  readonly env: NodeJS.ProcessEnv;
  /** One line for the report. */
  readonly note: string;
}

/**
 * The environment sidecars run with: the launcher's SIDECAR_ENV where this
 * process's environment sets none, so `MALLOC_ARENA_MAX=16 node bench/bench.ts`
 * compares against glibc's default on two cores (eight arenas per core).
 */
export function sidecarEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...missingEnv(process.env) };
}

/** Body sizes served by the app. */
export const BODY_BYTES = { small: 64, '16k': 16 * 1024 } as const;

/** The gRPC-shaped method served by the app (see templates/nginx-app.conf). */
export const GRPC_PATH = '/bench.v1.Bench/Unary';

/** SPIFFE IDs of the two sides. */
export const CLIENT_ID = 'spiffe://bench.test/client';
export const SERVER_ID = 'spiffe://bench.test/server';

/** Shared state of a run. */
export interface BenchContext {
  readonly procs: ProcessSet;
  /** Temp directory of this run (removed at the end). */
  readonly dir: string;
  /** `taskset -c` CPU lists; undefined = unpinned. */
  readonly cpu: { readonly load: string | undefined; readonly proxies: string | undefined };
  readonly ghostunnel: string;
  /** Progress on stderr. */
  log(msg: string): void;
  /** Free loopback ports. */
  ports(n: number): Promise<number[]>;
  /** Entry script and node flags of every sidecar process. */
  readonly sidecar: SidecarLaunch;
}

/** The upstream app: one nginx, HTTP/1.1 and h2c ports. */
export interface App {
  readonly h1Port: number;
  readonly h2Port: number;
  readonly group: ProcessGroup;
  /** Body file of a gRPC request (5-byte prefix + message). */
  readonly grpcRequestFile: string;
}

/** Makes a directory nginx's unprivileged workers can traverse. */
function openDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o755);
  return path;
}

/** The prefix directory of the nginx instance `name` (the `${dir}` of its template). */
export function nginxDir(ctx: BenchContext, name: string): string {
  return join(ctx.dir, name);
}

/** Starts nginx with `conf` in its own prefix ({@link nginxDir}); waits for `ports`; returns the master and its workers. */
export async function startNginx(ctx: BenchContext, name: string, conf: string, ports: readonly number[]): Promise<{ proc: Spawned; group: ProcessGroup }> {
  const dir = openDir(nginxDir(ctx, name));
  openDir(join(dir, 'tmp'));
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  // -e: the error log before the config is read (Debian's default is /var/log/nginx).
  const proc = ctx.procs.spawn(name, 'nginx', ['-p', dir, '-c', confPath, '-e', join(dir, 'startup-error.log'), '-g', 'daemon off;'], { cpu: ctx.cpu.proxies });
  for (const p of ports) await waitForPort(p, proc);
  // The master binds the ports before it forks the worker; wait for the worker
  // too, or its CPU and memory would be missing from every figure.
  let workers = childPids(proc.pid);
  for (const deadline = performance.now() + 10_000; workers.length === 0; workers = childPids(proc.pid)) {
    if (!proc.running() || performance.now() > deadline) throw new Error(`bench: ${name} has no worker process:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { proc, group: { label: name, pids: [proc.pid, ...workers] } };
}

/** Starts the upstream app and writes its bodies. */
export async function startApp(ctx: BenchContext): Promise<App> {
  const dir = openDir(join(ctx.dir, 'app'));
  const www = openDir(join(dir, 'www'));
  writeFileSync(join(www, 'small'), 'x'.repeat(BODY_BYTES.small));
  writeFileSync(join(www, '16k'), 'y'.repeat(BODY_BYTES['16k']));
  // gRPC message framing: 1 byte compressed flag, 4 bytes big-endian length, then the message
  // (here protobuf field 1, a 4-byte string).
  const frame = (text: string): Buffer => {
    const msg = Buffer.concat([Buffer.from([0x0a, text.length]), Buffer.from(text)]);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(msg.length, 1);
    return Buffer.concat([head, msg]);
  };
  writeFileSync(join(www, 'grpc-reply'), frame('pong'));
  openDir(join(www, 'bench.v1.Bench'));
  writeFileSync(join(www, 'bench.v1.Bench', 'Unary'), frame('pong'));
  const grpcRequestFile = join(dir, 'grpc-request.bin');
  writeFileSync(grpcRequestFile, frame('ping'));
  const [h1Port, h2Port] = (await ctx.ports(2)) as [number, number];
  const conf = renderTemplate('nginx-app.conf', { dir: nginxDir(ctx, 'app-nginx'), www, h1Port, h2Port });
  const { group } = await startNginx(ctx, 'app-nginx', conf, [h1Port, h2Port]);
  await waitFor200(`http://127.0.0.1:${h1Port}/small`);
  return { h1Port, h2Port, group: { ...group, label: 'app' }, grpcRequestFile };
}

/** A running dev agent process with a client and a server workload socket. */
export interface Agent {
  readonly proc: Spawned;
  readonly clientSocket: string;
  readonly serverSocket: string;
  /** `rotated` events logged so far. */
  rotations(): number;
}

/** Starts `spiffe-sidecar dev-agent` (trust domain bench.test) as a process on the load CPU. */
export async function startAgent(ctx: BenchContext, name: string, ttl: string): Promise<Agent> {
  const dir = join(ctx.dir, name);
  mkdirSync(dir, { recursive: true });
  const clientSocket = join(dir, 'client.sock');
  const serverSocket = join(dir, 'server.sock');
  let ready = false;
  let rotations = 0;
  const proc = ctx.procs.spawn(
    name,
    nodeBin,
    [
      '--disable-warning=ExperimentalWarning',
      mainScript,
      'dev-agent',
      '--trust-domain',
      'bench.test',
      '--workload',
      `${clientSocket}=${CLIENT_ID}`,
      '--workload',
      `${serverSocket}=${SERVER_ID}`,
      '--ttl',
      ttl,
      '--key-type',
      'ec-p256',
    ],
    {
      cpu: ctx.cpu.load,
      cwd: projectRoot,
      onLine: (line) => {
        if (line.includes('"event":"ready"')) ready = true;
        if (line.includes('"event":"rotated"')) rotations++;
      },
    },
  );
  const deadline = performance.now() + 30_000;
  while (!ready) {
    if (!proc.running()) throw new Error(`bench: dev agent exited:\n${proc.output()}`);
    if (performance.now() > deadline) throw new Error(`bench: dev agent not ready after 30 s:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, clientSocket, serverSocket, rotations: () => rotations };
}

/** Writes each side's SVID, key and bundle with `spiffe-sidecar svid --write` (for nginx). */
export async function writeSvids(ctx: BenchContext, agent: Agent): Promise<string> {
  const certDir = join(ctx.dir, 'certs');
  for (const [side, socket] of [['client', agent.clientSocket], ['server', agent.serverSocket]] as const) {
    const p = ctx.procs.spawn(`svid-${side}`, nodeBin, ['--disable-warning=ExperimentalWarning', mainScript, 'svid', '--socket', `unix://${socket}`, '--write', join(certDir, side)], {
      cwd: projectRoot,
    });
    const code = await p.exited;
    if (code !== 0) throw new Error(`bench: svid --write for ${side} failed (${code}):\n${p.output()}`);
  }
  return certDir;
}
