import { readFile } from 'node:fs/promises';
import type { Logger as PinoLogger } from 'pino';
import { buildSidecar } from '../app.ts';
import { ConfigError, loadConfigText, type Config } from '../config/index.ts';
import { describeError, errorCode } from '../core/index.ts';
import { createRootLogger } from './logger.ts';
import { describeCliError } from './cli-error.ts';
import { EXIT_USAGE } from './exit-codes.ts';
import type { CliIo, Command } from './io.ts';
import { parseFlags } from './parse-flags.ts';
import { lintPolicyFile } from './policy-lint.ts';
import { configProblems, countProblems, formatProblems, type Problem } from './problem-report.ts';

const HELP = `usage: spiffe-sidecar run [--config FILE]

Runs the sidecar: fetches this workload's X509-SVIDs from the Workload API,
serves the inbound (mTLS) and outbound proxies, TCP tunnels and the admin
listener described by FILE (YAML, docs/config.md). SPIFFE_SIDECAR_* variables
override the file; without --config the environment alone configures it.

options:
  --config FILE   configuration file
  -h, --help      show this help

Logs JSON lines on stdout. On SIGTERM or SIGINT: /readyz turns 503, in-flight
requests get drain.timeout to finish, then the process exits 0.
Exit status: 0 stopped cleanly; 1 failed at start-up or at runtime; 2 bad
usage, or an unusable configuration or policy file: nothing is started and
every problem is printed on stderr, one per line as FILE: PATH: MESSAGE.
`;

/** How long a stopped sidecar may linger because of a forgotten handle before it is made to exit. */
const EXIT_GRACE_MS = 3_000;

/** Reads and validates the configuration; prints every problem and returns undefined when it is unusable. */
async function readConfig(path: string | undefined, io: CliIo): Promise<Config | undefined> {
  let text = '';
  if (path !== undefined) {
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      io.stderr.write(`spiffe-sidecar run: ${describeCliError(err)}\n`);
      return undefined;
    }
  }
  const source = path ?? '(environment)';
  try {
    return loadConfigText(text, io.env, source);
  } catch (err) {
    if (err instanceof ConfigError) {
      reportProblems(io, 'the configuration', configProblems(err, source));
      return undefined;
    }
    throw err;
  }
}

/**
 * The policy files the configuration names (HTTP inbound and inbound TCP
 * tunnels; sidecar/app.ts loads the same list), each once.
 */
function policyFiles(config: Config): string[] {
  const sources = [...(config.inbound ? [config.inbound.policy] : []), ...config.tcp.flatMap((t) => (t.direction === 'inbound' ? [t.policy] : []))];
  return [...new Set(sources.flatMap((s) => (s.kind === 'file' ? [s.path] : [])))];
}

/**
 * Checks every policy file before anything starts, so a bad one is reported
 * as readable lines (exit 2) like a bad configuration, not as a start-up
 * failure in the JSON log. Returns false when one is unusable.
 */
async function checkPolicies(config: Config, io: CliIo): Promise<boolean> {
  const problems: Problem[] = [];
  for (const file of policyFiles(config)) {
    const r = await lintPolicyFile(file);
    if (!r.ok) problems.push(...r.problems);
  }
  if (problems.length === 0) return true;
  reportProblems(io, 'the policy', problems);
  return false;
}

/** Prints problems one per line after a header saying nothing was started. */
function reportProblems(io: CliIo, what: string, problems: readonly Problem[]): void {
  io.stderr.write(`spiffe-sidecar run: ${what} has ${countProblems(problems.length)}; nothing was started:\n${formatProblems(problems)}`);
}

/**
 * Logs a crash and exits 1. A throw nobody caught is a bug: it must be
 * visible in the log, and the process must not limp on in an unknown state
 * (Kubernetes restarts it).
 */
function installCrashHandlers(logger: PinoLogger): () => void {
  const crash =
    (kind: string) =>
    (err: unknown): void => {
      logger.fatal({ kind, code: errorCode(err), err: describeError(err), stack: err instanceof Error ? err.stack : undefined }, 'crashed');
      process.exit(1);
    };
  const onException = crash('uncaughtException');
  const onRejection = crash('unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

/**
 * `spiffe-sidecar run`: configuration → sidecar → serve until SIGTERM/SIGINT
 * → drain → exit 0. Exit 2 for an unusable configuration, 1 for start-up
 * or runtime failures.
 */
export const runCommand: Command = async (argv, io) => {
  const flags = parseFlags(argv, { config: { type: 'string' } }).values;
  if (flags.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const config = await readConfig(flags.config, io);
  if (config === undefined || !(await checkPolicies(config, io))) return EXIT_USAGE;

  const logger = createRootLogger(io.stdout, config.log.level);
  for (const warning of config.warnings) logger.warn({ config: config.source }, warning);
  const removeCrashHandlers = installCrashHandlers(logger);

  let onFatal: (err: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => (onFatal = resolve));
  const sidecar = buildSidecar(config, { logger, env: io.env, auditOut: io.stdout, onFatal: (err) => onFatal(err) });
  let code = 0;
  try {
    try {
      await sidecar.start();
    } catch (err) {
      logger.error({ code: errorCode(err), err: describeError(err) }, 'start-up failed');
      await sidecar.stop('start-up failed');
      return (code = 1);
    }
    logger.info({ config: config.source }, 'sidecar started');
    const stopped = new Promise<string>((resolve) => {
      if (io.stopSignal.aborted) resolve('signal');
      else io.stopSignal.addEventListener('abort', () => resolve('signal'), { once: true });
    });
    const reason = await Promise.race([stopped, failed.then((err) => `fatal: ${describeError(err)}`)]);
    if (reason !== 'signal') code = 1;
    await sidecar.stop(reason === 'signal' ? 'stop signal received' : reason);
    return code;
  } finally {
    removeCrashHandlers();
    // Everything is closed; if some handle still holds the event loop, exit anyway.
    setTimeout(() => {
      logger.warn({ grace_ms: EXIT_GRACE_MS }, 'process did not exit after stopping; forcing exit');
      process.exit(code);
    }, EXIT_GRACE_MS).unref();
  }
};
