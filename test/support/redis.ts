/**
 * A throwaway Redis server (Debian's redis-server, 7.x) for the network-
 * namespace pod tests: run in a pod's namespace as a non-root uid, on
 * 127.0.0.1 only (the pod's sidecar is its only network client), with no
 * persistence and no config file. Stopped through the Teardown, and
 * killed by its exit hook.
 */
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inNamespace, nsRun } from './netns.ts';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import { projectRoot, type CommandResult, type Credentials } from './spire.ts';
import type { Teardown } from './teardown.ts';

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** The pod's network namespace. */
  readonly ns: string;
  /** A folder for the server's working directory (a `redis` subfolder is created, owned by `owner`). */
  readonly dir: string;
  /** The uid/gid the server runs as. */
  readonly owner: Credentials;
  /** TCP port on 127.0.0.1; default 6379. */
  readonly port?: number;
  readonly teardown: Teardown;
  /** Where the server's output goes; default `<dir>/redis.log`. */
  readonly logFile?: string;
}

/** A running server. */
export interface Redis {
  readonly port: number;
  readonly process: LoggedProcess;
  /** Runs one redis-cli command against the server from inside the pod (not through the sidecar). */
  cliLocal(args: readonly string[]): Promise<CommandResult>;
}

/** Starts redis-server in `o.ns`; resolves once it accepts connections. */
export async function startRedis(o: RedisOptions): Promise<Redis> {
  const port = o.port ?? 6379;
  const root = join(o.dir, 'redis');
  mkdirSync(root, { mode: 0o700 });
  chownSync(root, o.owner.uid, o.owner.gid);
  const argv = [
    'redis-server',
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', root,
    // Nothing to keep: no RDB snapshots, no append-only file.
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    // Loopback only, and only the pod's sidecar dials it; no password to manage.
    '--protected-mode', 'no',
    '--loglevel', 'notice',
    // Keep the command line (with the run's folder) visible, for leftover checks by path.
    '--set-proc-title', 'no',
  ];
  const proc = startLogged({ name: 'redis', argv: inNamespace(o.ns, argv, o.owner), cwd: projectRoot, logFile: o.logFile ?? join(o.dir, 'redis.log'), teardown: o.teardown, env: { PATH: '/usr/bin:/bin', HOME: root } });
  await proc.waitForLine(/Ready to accept connections/, 20_000);
  return {
    port,
    process: proc,
    cliLocal: (args) => nsRun(o.ns, ['redis-cli', '-h', '127.0.0.1', '-p', String(port), ...args], o.owner, 20_000),
  };
}
