import { describeCliError, exitCodeFor } from './cli-error.ts';
import { EXIT_CODES_HELP, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { guardStdio } from './stdio-guard.ts';

/** A subcommand: its one-line summary and a loader, so only the command run is imported. */
export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: {
    summary: 'run the sidecar: Workload API identity, mTLS inbound/outbound proxies, admin endpoints',
    load: async () => (await import('./run.ts')).runCommand,
  },
  demo: {
    summary: 'start a demo mesh on the embedded dev agent and show what the sidecar does',
    load: async () => (await import('./demo.ts')).demoCommand,
  },
  'dev-agent': {
    summary: 'run the embedded Workload API server with an in-memory CA',
    load: async () => (await import('./dev-agent.ts')).devAgentCommand,
  },
  svid: {
    summary: 'fetch X509-SVIDs from the Workload API once and print them',
    load: async () => (await import('./svid.ts')).svidCommand,
  },
  inspect: {
    summary: 'parse a certificate chain as an X509-SVID and verify it against bundles',
    load: async () => (await import('./inspect.ts')).inspectCommand,
  },
  policy: {
    summary: 'check authorization policy files (policy lint FILE...)',
    load: async () => (await import('./policy.ts')).policyCommand,
  },
  check: {
    summary: 'diagnose a sidecar before start or while it runs (config, Workload API, SVID, listeners, iptables)',
    load: async () => (await import('./check.ts')).checkCommand,
  },
  explain: { summary: 'explain how the inbound policy decides one request (decision, rule, why the others did not match)', load: async () => (await import('./explain.ts')).explainCommand },
  inject: {
    summary: 'add the sidecar to the pod templates of Kubernetes YAML (offline injection)',
    load: async () => (await import('./inject.ts')).injectCommand,
  },
  webhook: {
    summary: 'run the Kubernetes mutating admission webhook that injects the sidecar',
    load: async () => (await import('./webhook.ts')).webhookCommand,
  },
  iptables: {
    summary: "install, remove or print the pod's traffic redirect rules",
    load: async () => (await import('./iptables.ts')).iptablesCommand,
  },
  version: {
    summary: 'print the version, the Node.js running it and the Workload API level',
    load: async () => (await import('./version.ts')).versionCommand,
  },
};

/** The top-level help. */
export function usage(commands: Readonly<Record<string, CommandEntry>> = COMMANDS): string {
  const lines = ['usage: spiffe-sidecar <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push('', "run 'spiffe-sidecar <command> --help' for a command's options; --version prints the version", '');
  return lines.join('\n') + EXIT_CODES_HELP;
}

/**
 * Runs one invocation (`args` without node and script) and returns its exit
 * status; never throws. Errors print as one `spiffe-sidecar <command>: ...`
 * text on stderr: usage errors with a pointer to --help (exit 2), bugs
 * (see {@link exitCodeFor}) as an internal error with their stack (exit 70),
 * every other failure with its code (exit 1). `commands` is replaceable for tests.
 */
export async function dispatch(args: readonly string[], io: CliIo, commands: Readonly<Record<string, CommandEntry>> = COMMANDS): Promise<number> {
  let [name, ...rest] = args;
  if (name === '--version') name = 'version';
  if (name === 'help' && rest.length > 0) [name, rest] = [rest[0], ['--help']];
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage(commands));
    return EXIT_OK;
  }
  if (name === undefined) {
    io.stderr.write(usage(commands));
    return EXIT_USAGE;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (entry === undefined) {
    io.stderr.write(`spiffe-sidecar: unknown command ${JSON.stringify(name)}\nrun 'spiffe-sidecar --help' for the commands\n`);
    return EXIT_USAGE;
  }
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (err) {
    const code = exitCodeFor(err);
    const text = describeCliError(err);
    if (err instanceof UsageError) {
      io.stderr.write(`spiffe-sidecar ${name}: ${text}\nrun 'spiffe-sidecar ${name} --help' for its options\n`);
    } else if (code === EXIT_INTERNAL) {
      const stack = err instanceof Error && err.stack ? `\n${err.stack}` : '';
      io.stderr.write(`spiffe-sidecar ${name}: internal error: ${text}${stack}\n`);
    } else {
      io.stderr.write(`spiffe-sidecar ${name}: ${text}\n`);
    }
    return code;
  }
}

/**
 * Runs the CLI for this process: SIGINT/SIGTERM and a closed stdout or
 * stderr stop the command gracefully, then the exit status is returned for
 * the entry point to set.
 */
export async function runProcess(): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The listeners stay until exit: a write after the command returned must not crash either.
  guardStdio([process.stdout, process.stderr], () => stop.abort());
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, stopSignal: stop.signal };
  try {
    return await dispatch(process.argv.slice(2), io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
