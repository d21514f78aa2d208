#!/usr/bin/env node
/**
 * The process entry point. This folder is the only code that reads
 * process.argv / process.env, installs signal handlers or calls process.exit.
 */
import { UsageError, type CliIo, type Command } from './io.ts';

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
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
  inject: {
    summary: 'add the sidecar to the pod templates of Kubernetes YAML (offline injection)',
    load: async () => (await import('./inject.ts')).injectCommand,
  },
  webhook: {
    summary: 'run the Kubernetes mutating admission webhook that injects the sidecar',
    load: async () => (await import('./webhook.ts')).webhookCommand,
  },
  run: {
    summary: 'run the sidecar: Workload API identity, mTLS inbound/outbound proxies, admin endpoints',
    load: async () => (await import('./run.ts')).runCommand,
  },
  demo: {
    summary: 'start a demo mesh on the embedded dev agent and show what the sidecar does',
    load: async () => (await import('./demo.ts')).demoCommand,
  },
  iptables: {
    summary: "install, remove or print the pod's traffic redirect rules",
    load: async () => (await import('./iptables.ts')).iptablesCommand,
  },
};

function usage(): string {
  const lines = ['usage: spiffe-sidecar <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push('', "run 'spiffe-sidecar <command> --help' for a command's options");
  return lines.join('\n') + '\n';
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`spiffe-sidecar: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, stopSignal: stop.signal };
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`spiffe-sidecar ${name}: ${err.message}\n`);
      return 2;
    }
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e?.code === 'string' ? ` [${e.code}]` : '';
    process.stderr.write(`spiffe-sidecar ${name}: ${String(e?.message ?? err)}${code}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`spiffe-sidecar: unexpected failure: ${String(err)}\n`);
    process.exitCode = 70;
  },
);
