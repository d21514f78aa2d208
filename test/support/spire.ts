/**
 * Runs a real SPIRE server and agent (the pinned build from
 * install-spire.sh) on this machine for end-to-end tests: join_token node
 * attestation, sqlite datastore, in-memory keys, the unix workload attestor,
 * everything on 127.0.0.1 or Unix sockets in one temporary folder.
 *
 * `startSpire()` returns once the agent answers its health check; `stop()`
 * (also called by a process 'exit' hook) kills both and removes the folder.
 * `runAs()` starts a process under another uid so `unix:uid:<n>` selectors
 * tell workloads apart.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePorts } from '../../sidecar/testing.ts';

/** The project root (two folders above this file). */
export const projectRoot = resolve(import.meta.dirname, '..', '..');

const templates = join(projectRoot, 'spire-config');

/** Options for {@link startSpire}. */
export interface SpireOptions {
  /** Trust domain of the server; default `example.org`. */
  readonly trustDomain?: string;
  /** Server default X509-SVID lifetime as a Go duration (`1h`, `30s`); default `1h`. Entries can override it. */
  readonly x509SvidTtl?: string;
  /**
   * Run the server behind the `disk` UpstreamAuthority with this self-signed
   * root (spire-config/upstream-authority-disk.conf): SVIDs then come as
   * leaf + SPIRE's intermediate and the bundle is the root. Absolute paths
   * of PEM files the server can read. Default: SPIRE signs its own CA.
   */
  readonly upstreamAuthority?: { readonly certFile: string; readonly keyFile: string };
}

/** A registration entry to create with {@link Spire.createEntry}. */
export interface SpireEntry {
  readonly spiffeId: string;
  /** `type:value` strings, e.g. `unix:uid:1001`. */
  readonly selectors: readonly string[];
  /** Lifetime of this entry's X509-SVIDs; the server default when omitted. */
  readonly x509SvidTtlSeconds?: number;
  readonly hint?: string;
}

/** A running SPIRE server + agent pair. */
export interface Spire {
  readonly serverBin: string;
  readonly agentBin: string;
  /** Absolute path of the agent's Workload API socket (reachable by every uid). */
  readonly socketPath: string;
  /** `unix://` form of {@link socketPath}, for SPIFFE_ENDPOINT_SOCKET. */
  readonly socketAddress: string;
  /** The temporary folder holding configs, data, sockets and logs. */
  readonly dir: string;
  readonly trustDomain: string;
  /** The agent's SPIFFE ID; the parent of every entry created here. */
  readonly agentId: string;
  /** Creates a workload entry under the agent and returns its entry ID. */
  createEntry(entry: SpireEntry): Promise<string>;
  /** Deletes an entry by entry ID. */
  deleteEntry(entryId: string): Promise<void>;
  /** The trust domain's X.509 bundle as PEM (`spire-server bundle show`). */
  bundlePem(): Promise<string>;
  /** The last `lines` lines of the server and agent logs, for failure reports. */
  logTail(lines?: number): string;
  /** Stops both processes and removes {@link dir}. Idempotent. */
  stop(): Promise<void>;
}

/** What a finished command printed. */
export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (no shell) and collects its output. */
export async function run(cmd: string, args: readonly string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<CommandResult> {
  const { timeoutMs = 30_000, ...spawnOpts } = opts;
  const child = spawn(cmd, args, { ...spawnOpts, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } catch (err) {
    // 'error' (e.g. ENOENT) rejects once(); report it like a failed command.
    return { code: null, signal: null, stdout, stderr: stderr + String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** A uid/gid pair to run a workload as; any numbers work, no /etc/passwd entry is needed. */
export interface Credentials {
  readonly uid: number;
  readonly gid: number;
}

/** The environment of a child running as a test uid: a system PATH, and HOME at /tmp because the uid has no home of its own. */
export const OTHER_USER_ENV: Readonly<Record<string, string>> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp' };

/**
 * Spawns `cmd` as another user. Needs root. libuv drops supplementary
 * groups when it switches ids, so the unix attestor sees exactly
 * `unix:uid:<uid>` and `unix:gid:<gid>`; the environment is {@link OTHER_USER_ENV}
 * plus `opts.env`.
 */
export function spawnAs(who: Credentials, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(cmd, args, asUser(who, opts));
}

/** {@link run} as another user (see {@link spawnAs}). */
export function runAs(who: Credentials, cmd: string, args: readonly string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<CommandResult> {
  return run(cmd, args, asUser(who, opts));
}

/** `opts` for a child running as `who`: the project root as default cwd, {@link OTHER_USER_ENV} under `opts.env`. */
function asUser<O extends SpawnOptions>(who: Credentials, opts: O): O {
  return { cwd: projectRoot, ...opts, uid: who.uid, gid: who.gid, env: { ...OTHER_USER_ENV, ...opts.env } };
}

/** Node 24 from node_modules: the interpreter for workload scripts run under other uids. */
export const nodeBin = join(projectRoot, 'node_modules', '.bin', 'node');

/**
 * Throws, naming the culprit, unless a uid with no groups (as spawnAs
 * gives) can reach and read each path: every ancestor folder world-
 * searchable, the path itself world-readable (and world-executable when
 * `exec`). It never changes permissions: fixing system folders is the
 * operator's call.
 */
export function assertReachableByOthers(paths: readonly { path: string; exec?: boolean }[]): void {
  const problems: string[] = [];
  for (const { path, exec } of paths) {
    const real = realpathSync(path);
    let dir = dirname(real);
    for (;;) {
      if ((statSync(dir).mode & 0o001) === 0) problems.push(`${dir} is not searchable by other users (needed for ${path})`);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    const mode = statSync(real).mode;
    if ((mode & 0o004) === 0) problems.push(`${real} is not readable by other users`);
    if (exec && (mode & 0o001) === 0) problems.push(`${real} is not executable by other users`);
  }
  if (problems.length > 0) throw new Error(`workloads under test uids cannot run:\n  ${[...new Set(problems)].join('\n  ')}`);
}

/**
 * Builds (once) and locates the pinned SPIRE binaries. Throws with the
 * script's own message when it fails (no Go, no C compiler, proxy refused).
 */
export async function installSpire(): Promise<{ serverBin: string; agentBin: string }> {
  const res = await run(join(projectRoot, 'test', 'support', 'install-spire.sh'), [], { cwd: projectRoot, timeoutMs: 30 * 60_000 });
  const bin = res.stdout.trim().split('\n').pop() ?? '';
  if (res.code !== 0 || bin === '') {
    throw new Error(`install-spire.sh failed (exit ${res.code ?? res.signal}):\n${res.stderr.trim()}`);
  }
  return { serverBin: join(bin, 'spire-server'), agentBin: join(bin, 'spire-agent') };
}

/** Fills `{{NAME}}` placeholders; throws if the template uses one not given. */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`spire: template placeholder {{${name}}} has no value`);
    return v;
  });
}

/**
 * Inserts the `disk` UpstreamAuthority block (spire-config/upstream-authority-disk.conf,
 * filled with the files' paths) at the top of the server config's `plugins` section.
 */
export function withUpstreamAuthority(serverConf: string, files: { readonly certFile: string; readonly keyFile: string }): string {
  const block = renderTemplate(readFileSync(join(templates, 'upstream-authority-disk.conf'), 'utf8'), {
    UPSTREAM_CERT_FILE: files.certFile,
    UPSTREAM_KEY_FILE: files.keyFile,
  });
  const at = /^plugins \{\n/m.exec(serverConf);
  if (!at) throw new Error('spire: server.conf has no "plugins {" line to add the UpstreamAuthority to');
  const end = at.index + at[0].length;
  return `${serverConf.slice(0, end)}${block}\n${serverConf.slice(end)}`;
}

/** Every SPIRE started by this process, so the 'exit' hook can kill what a crashed test left. */
const live = new Set<{ procs: ChildProcess[]; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL and rmSync, no waiting.
  const cleanup = (): void => {
    for (const s of live) {
      for (const p of s.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      rmSync(s.dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on('exit', cleanup);
  // A signal (Ctrl-C, the test runner's timeout kill) ends the process
  // without 'exit'; clean up, then exit with the conventional status.
  for (const [sig, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(status);
    });
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopProcess(p: ChildProcess, graceMs: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = once(p, 'exit');
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Polls `check` every 200 ms until it passes; fails early when `proc` exits. */
async function waitHealthy(what: string, proc: ChildProcess, check: () => Promise<CommandResult>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: CommandResult | undefined;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`spire: ${what} exited (${proc.exitCode ?? proc.signalCode}) before becoming healthy`);
    }
    last = await check();
    if (last.code === 0) return;
    await sleep(200);
  }
  throw new Error(`spire: ${what} not healthy after ${timeoutMs} ms: ${last?.stderr.trim() ?? ''}`);
}

/**
 * Starts a SPIRE server and a join-token agent in a fresh temp folder and
 * waits until both pass their health checks. On any failure both are
 * stopped, the log tails are put in the error, and the folder is removed.
 */
export async function startSpire(opts: SpireOptions = {}): Promise<Spire> {
  const trustDomain = opts.trustDomain ?? 'example.org';
  const { serverBin, agentBin } = await installSpire();
  installExitHook();

  // Short path under /tmp: Unix socket paths are limited to 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'spire-'));
  // Workloads under other uids must traverse to the agent socket; SPIRE
  // creates the socket's own folder 0755 and the socket 0777.
  chmodSync(dir, 0o755);
  const serverDataDir = join(dir, 'server-data');
  const agentDataDir = join(dir, 'agent-data');
  mkdirSync(serverDataDir, { mode: 0o700 });
  mkdirSync(agentDataDir, { mode: 0o700 });
  const serverSocket = join(dir, 'server', 'api.sock');
  mkdirSync(join(dir, 'server'), { mode: 0o700 });
  const socketPath = join(dir, 'agent', 'api.sock');
  const bootstrap = join(dir, 'bootstrap.crt');
  const serverLog = join(dir, 'server.log');
  const agentLog = join(dir, 'agent.log');

  const state = { procs: [] as ChildProcess[], dir };
  live.add(state);
  let stopped = false;
  const logTail = (lines = 40): string =>
    `--- spire-server log (${serverLog}) ---\n${tail(serverLog, lines)}\n--- spire-agent log (${agentLog}) ---\n${tail(agentLog, lines)}`;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Agent first: it would otherwise log reconnect errors against a dead server.
    for (const p of [...state.procs].reverse()) await stopProcess(p, 5_000);
    if (process.env['SPIRE_KEEP_DIR'] !== '1') rmSync(dir, { recursive: true, force: true });
    live.delete(state);
  };
  const startLogged = (bin: string, args: string[], logFile: string): ChildProcess => {
    const fd = openSync(logFile, 'a');
    try {
      const p = spawn(bin, args, { cwd: dir, stdio: ['ignore', fd, fd] });
      p.on('error', () => {}); // reported through exitCode / health-check failures
      state.procs.push(p);
      return p;
    } finally {
      closeSync(fd);
    }
  };
  const server = (args: string[], timeoutMs?: number): Promise<CommandResult> =>
    run(serverBin, [...args, '-socketPath', serverSocket], timeoutMs === undefined ? {} : { timeoutMs });
  const serverOk = async (args: string[]): Promise<string> => {
    const res = await server(args);
    if (res.code !== 0) throw new Error(`spire-server ${args[0]} ${args[1]} failed: ${(res.stderr || res.stdout).trim()}`);
    return res.stdout;
  };

  try {
    const port = String((await freePorts(1))[0]!);
    const values = {
      SERVER_PORT: port,
      SERVER_SOCKET: serverSocket,
      TRUST_DOMAIN: trustDomain,
      SERVER_DATA_DIR: serverDataDir,
      AGENT_DATA_DIR: agentDataDir,
      AGENT_SOCKET: socketPath,
      BOOTSTRAP_BUNDLE: bootstrap,
      X509_SVID_TTL: opts.x509SvidTtl ?? '1h',
    };
    let serverConf = renderTemplate(readFileSync(join(templates, 'server.conf'), 'utf8'), values);
    if (opts.upstreamAuthority) serverConf = withUpstreamAuthority(serverConf, opts.upstreamAuthority);
    writeFileSync(join(dir, 'server.conf'), serverConf);
    writeFileSync(join(dir, 'agent.conf'), renderTemplate(readFileSync(join(templates, 'agent.conf'), 'utf8'), values));

    const serverProc = startLogged(serverBin, ['run', '-config', join(dir, 'server.conf')], serverLog);
    await waitHealthy('spire-server', serverProc, () => server(['healthcheck'], 5_000), 30_000);

    writeFileSync(bootstrap, await serverOk(['bundle', 'show']));
    const token = (JSON.parse(await serverOk(['token', 'generate', '-output', 'json'])) as { value: string }).value;
    const agentId = `spiffe://${trustDomain}/spire/agent/join_token/${token}`;

    const agentProc = startLogged(agentBin, ['run', '-config', join(dir, 'agent.conf'), '-joinToken', token], agentLog);
    await waitHealthy('spire-agent', agentProc, () => run(agentBin, ['healthcheck', '-socketPath', socketPath], { timeoutMs: 5_000 }), 30_000);

    return {
      serverBin,
      agentBin,
      socketPath,
      socketAddress: `unix://${socketPath}`,
      dir,
      trustDomain,
      agentId,
      async createEntry(e) {
        const args = ['entry', 'create', '-output', 'json', '-parentID', agentId, '-spiffeID', e.spiffeId];
        for (const s of e.selectors) args.push('-selector', s);
        if (e.x509SvidTtlSeconds !== undefined) args.push('-x509SVIDTTL', String(e.x509SvidTtlSeconds));
        if (e.hint !== undefined) args.push('-hint', e.hint);
        const out = JSON.parse(await serverOk(args)) as { results: { entry?: { id: string }; status: { code: number; message: string } }[] };
        const r = out.results[0];
        if (r?.entry === undefined || r.status.code !== 0) throw new Error(`spire-server entry create: ${r?.status.message ?? 'no result'}`);
        return r.entry.id;
      },
      async deleteEntry(entryId) {
        await serverOk(['entry', 'delete', '-entryID', entryId]);
      },
      bundlePem: () => serverOk(['bundle', 'show']),
      logTail,
      stop,
    };
  } catch (err) {
    const logs = logTail();
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`, { cause: err });
  }
}
