/**
 * A throwaway PostgreSQL server (Debian's postgresql-15) for the network-
 * namespace pod tests: `initdb` into a fresh folder as a non-root uid, then
 * `postgres` inside a pod's namespace as that uid, on 127.0.0.1 only (the
 * pod's sidecar is its only network client), with fsync off and `trust`
 * authentication for local connections. Nothing is installed as a service
 * and nothing outside the folder is touched; the server is stopped (fast
 * shutdown) through the Teardown, and killed by its exit hook.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inNamespace, nsRun } from './netns.ts';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import { projectRoot, type CommandResult, type Credentials } from './spire.ts';
import type { Teardown } from './teardown.ts';

/** Options of {@link startPostgres}. */
export interface PostgresOptions {
  /** The pod's network namespace. */
  readonly ns: string;
  /** A folder the server's files go in (a `postgres` subfolder is created, owned by `owner`). */
  readonly dir: string;
  /**
   * The uid/gid the cluster belongs to and the server runs as: never root
   * (postgres refuses it), and an account with a passwd entry (initdb and
   * postgres look their own user up); default the `postgres` account the
   * Debian package creates ({@link postgresAccount}).
   */
  readonly owner?: Credentials;
  /** TCP port on 127.0.0.1; default 5432. */
  readonly port?: number;
  readonly teardown: Teardown;
  /** Where the server's output goes; default `<dir>/postgres.log`. */
  readonly logFile?: string;
}

/** A running server. */
export interface Postgres {
  readonly port: number;
  readonly dataDir: string;
  /** The folder holding the server's Unix socket (for {@link Postgres.psqlLocal}). */
  readonly socketDir: string;
  readonly process: LoggedProcess;
  /** Runs `sql` with psql over the Unix socket in the pod, as the owner; unaligned, tuples only. */
  psqlLocal(sql: string): Promise<CommandResult>;
}

/** The newest PostgreSQL ≥ 15 server binaries Debian installed (`/usr/lib/postgresql/<n>/bin`). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v) && Number(v) >= 15 && existsSync(join(base, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`postgres: no server binaries under ${base}/<version>/bin (apt-get install postgresql)`);
  return join(base, versions[0]!, 'bin');
}

/** The uid/gid of the `postgres` system account (Debian's postgresql-common creates it). */
export function postgresAccount(): Credentials {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined || Number(uid) === 0) throw new Error('postgres: no non-root "postgres" account in /etc/passwd (apt-get install postgresql creates it)');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Creates a cluster with initdb (no fsync, C locale, superuser `postgres`,
 * trust authentication) and starts the server in `o.ns`; resolves once it
 * accepts connections.
 */
export async function startPostgres(o: PostgresOptions): Promise<Postgres> {
  const bin = postgresBinDir();
  const owner = o.owner ?? postgresAccount();
  const port = o.port ?? 5432;
  const root = join(o.dir, 'postgres');
  mkdirSync(root, { mode: 0o700 });
  chownSync(root, owner.uid, owner.gid);
  const dataDir = join(root, 'data');
  const env = { PATH: '/usr/bin:/bin', HOME: root, LANG: 'C' };

  // initdb needs no network: run it in the pod anyway, as the owner, so every process of the pod is in its namespace.
  const init = await nsRun(o.ns, [join(bin, 'initdb'), '-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], owner, 60_000);
  if (init.code !== 0) throw new Error(`postgres: initdb exited ${init.code ?? init.signal}: ${(init.stderr || init.stdout).trim()}`);

  const argv = [
    join(bin, 'postgres'),
    '-D', dataDir,
    '-p', String(port),
    '-k', root,
    '-c', 'listen_addresses=127.0.0.1',
    // A test server: durability buys nothing, and fsync is the slow part on shared CI disks.
    '-c', 'fsync=off',
    '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off',
    '-c', 'shared_buffers=16MB',
    '-c', 'max_connections=20',
    '-c', 'log_connections=on',
  ];
  const proc = startLogged({ name: 'postgres', argv: inNamespace(o.ns, argv, owner), cwd: projectRoot, logFile: o.logFile ?? join(o.dir, 'postgres.log'), teardown: o.teardown, env });
  // Registered after startLogged's own stop, so it runs first: SIGINT is the
  // fast shutdown (SIGTERM would wait for clients to disconnect).
  o.teardown.add('fast shutdown of postgres', () => {}, async () => {
    if (proc.exited()) return;
    proc.proc.kill('SIGINT');
    await proc.stop(5_000);
  });
  await proc.waitForLine(/database system is ready to accept connections/, 30_000);

  return {
    port,
    dataDir,
    socketDir: root,
    process: proc,
    psqlLocal: (sql) => nsRun(o.ns, [join(bin, 'psql'), '-X', '-h', root, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], owner, 20_000),
  };
}

