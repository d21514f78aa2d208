import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyX509SvidChain, type X509Svid } from '../svid/index.ts';
import {
  SPIFFE_ENDPOINT_SOCKET,
  WorkloadApiClient,
  WorkloadApiError,
  parseEndpointAddress,
  type X509Context,
} from '../workload/index.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { describeCliError } from './cli-error.ts';
import { durationFlag } from './duration-flag.ts';
import { parseFlags } from './parse-flags.ts';
import { terminalSafe } from './problem-report.ts';
import { describeError } from '../core/index.ts';

const HELP = `usage: spiffe-sidecar svid [--socket URI] [--json] [--write DIR] [--timeout 5s]

Fetches the X509-SVIDs of this process once from the Workload API, verifies
each against its own trust domain's bundle, and prints them.

options:
  --socket URI      Workload API endpoint, unix:///path or tcp://IP:port
                    (default: $${SPIFFE_ENDPOINT_SOCKET})
  --json            print {"svids":[...],"bundles":{...}} instead of text
  --write DIR       write svid.pem (chain), svid_key.pem (mode 0600) and bundle.pem
                    for the default SVID into DIR
  --timeout DURATION  give up after this long (default 5s)
  -h, --help        show this help
`;

/** The `--json` output shape. */
export interface SvidJson {
  svids: { spiffeId: string; notBefore: string; notAfter: string; hint: string }[];
  /** Trust domain name → number of CA certificates. */
  bundles: Record<string, number>;
}

/** Builds the `--json` document from a fetched context. */
export function svidJson(ctx: X509Context): SvidJson {
  const bundles: Record<string, number> = {};
  for (const b of ctx.bundles) bundles[b.trustDomain.name] = b.authorities.length;
  return {
    svids: ctx.svids.map((s) => ({
      spiffeId: s.id.toString(),
      notBefore: s.notBefore.toISOString(),
      notAfter: s.notAfter.toISOString(),
      hint: s.hint,
    })),
    bundles,
  };
}

/** Text output in the layout of `spire-agent api fetch x509` (SPIRE cmd/spire-agent/cli/api/printer.go). */
export function svidText(ctx: X509Context, elapsedMs: number): string {
  const lines = [`Received ${ctx.svids.length} svid(s) after ${elapsedMs}ms`];
  for (const s of ctx.svids) {
    lines.push('', `SPIFFE ID:\t\t${s.id.toString()}`);
    if (s.hint) lines.push(`Hint:\t\t\t${s.hint}`);
    lines.push(`SVID Valid After:\t${s.notBefore.toISOString()}`, `SVID Valid Until:\t${s.notAfter.toISOString()}`);
    lines.push(`Chain length:\t\t${s.certificates.length}`);
    s.certificates.slice(1).forEach((c, i) => {
      lines.push(`Intermediate #${i + 1} Valid After:\t${c.notBefore.toISOString()}`);
      lines.push(`Intermediate #${i + 1} Valid Until:\t${c.notAfter.toISOString()}`);
    });
    const own = ctx.bundles.get(s.id.trustDomain);
    (own?.authorities ?? []).forEach((c, i) => {
      lines.push(`CA #${i + 1} Valid After:\t${c.notBefore.toISOString()}`, `CA #${i + 1} Valid Until:\t${c.notAfter.toISOString()}`);
    });
    for (const b of ctx.bundles) {
      if (b.trustDomain.equals(s.id.trustDomain)) continue;
      b.authorities.forEach((c, i) => {
        const p = `[${b.trustDomain.idString()}] CA #${i + 1}`;
        lines.push(`${p} Valid After:\t${c.notBefore.toISOString()}`, `${p} Valid Until:\t${c.notAfter.toISOString()}`);
      });
    }
  }
  lines.push('', `Bundle trust domains:\t${ctx.bundles.trustDomains().map((t) => t.name).join(', ')}`, '');
  return lines.join('\n');
}

/**
 * Creates `path` with `mode` and writes `data`. An existing file is removed
 * first, and the new one is opened with O_EXCL: the mode applies from the
 * first byte (no chmod window), and a planted symlink is not followed.
 */
async function writeNewFile(path: string, data: string, mode: number): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

async function writeFiles(dir: string, svid: X509Svid, ctx: X509Context): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const bundle = ctx.bundles.get(svid.id.trustDomain);
  const files: [string, string, number][] = [
    ['svid.pem', svid.certChainPem(), 0o644],
    ['svid_key.pem', svid.privateKeyPem(), 0o600],
    ['bundle.pem', bundle?.toPem() ?? '', 0o644],
  ];
  const written: string[] = [];
  for (const [name, data, mode] of files) {
    const p = join(dir, name);
    await writeNewFile(p, data, mode);
    written.push(p);
  }
  return written;
}

/** What a failed connect means to an operator, by the errno grpc-js reports. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  ENOENT: 'no socket at that path (is the agent running, and is the path right?)',
  ECONNREFUSED: 'connection refused (nothing is listening there)',
  EACCES: 'permission denied (check the socket file and its directory)',
  EPERM: 'permission denied (check the socket file and its directory)',
  ENOTSOCK: 'that path is not a socket',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
};

/**
 * The failure in this CLI's words. grpc-js describes an unreachable server
 * in its own phrasing ("No connection established. Last error: ...
 * Resolution note: "); only the errno in it is kept.
 */
export function failureText(err: unknown, target: string): string {
  if (err instanceof WorkloadApiError && err.status) {
    if (err.status.name !== 'Unavailable') return `${err.status.name}: ${terminalSafe(err.status.details)}`;
    const errno = /\b(E[A-Z]{3,})\b/.exec(err.status.details)?.[1];
    const why = errno === undefined ? 'the agent is unavailable' : (UNREACHABLE[errno] ?? errno);
    return `cannot reach the Workload API at ${target}: ${why}`;
  }
  return describeCliError(err);
}

/**
 * `spiffe-sidecar svid`: one FetchX509SVID message, verified and printed
 * (or written to files). Exit 1 with the gRPC status name and the agent's
 * message on failure, e.g. "PermissionDenied: no identity issued".
 */
export const svidCommand: Command = async (argv, io) => {
  const v = parseFlags(argv, { socket: { type: 'string' }, json: { type: 'boolean' }, write: { type: 'string' }, timeout: { type: 'string' } }).values;
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const timeoutMs = v.timeout === undefined ? 5_000 : durationFlag('--timeout', v.timeout);
  if (v.socket !== undefined) {
    try {
      parseEndpointAddress(v.socket);
    } catch (err) {
      throw new UsageError(`--socket: ${describeError(err)}`);
    }
  }
  const fail = (message: string): number => {
    io.stderr.write(`spiffe-sidecar svid: ${message}\n`);
    return 1;
  };
  const shownAddress = v.socket ?? io.env[SPIFFE_ENDPOINT_SOCKET] ?? '';
  let client: WorkloadApiClient;
  try {
    client = new WorkloadApiClient({ ...(v.socket !== undefined ? { address: v.socket } : {}), env: io.env });
  } catch (err) {
    return fail(failureText(err, shownAddress));
  }
  try {
    const fetched = await fetchOnce(client, io, timeoutMs, `no answer from ${shownAddress} within ${v.timeout ?? '5s'}`, shownAddress);
    if ('failure' in fetched) return fail(fetched.failure);
    const unverified = verificationFailure(fetched.ctx);
    if (unverified !== undefined) return fail(unverified);
    const written = v.write !== undefined ? await writeFiles(v.write, fetched.ctx.svids[0]!, fetched.ctx) : [];
    if (v.json) {
      io.stdout.write(JSON.stringify(svidJson(fetched.ctx)) + '\n');
    } else {
      io.stdout.write(svidText(fetched.ctx, fetched.elapsedMs));
      for (const p of written) io.stdout.write(`Wrote ${p}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
};

/**
 * One FetchX509SVID answer and how long it took, or why there was none:
 * the stop signal, `timeoutMs` passing (`timeoutText`), or the failure.
 */
async function fetchOnce(
  client: WorkloadApiClient,
  io: CliIo,
  timeoutMs: number,
  timeoutText: string,
  shownAddress: string,
): Promise<{ ctx: X509Context; elapsedMs: number } | { failure: string }> {
  const abort = new AbortController();
  // A ref'd timer on purpose: the CLI must stay alive until it answers.
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const onStop = (): void => abort.abort();
  io.stopSignal.addEventListener('abort', onStop, { once: true });
  const started = performance.now();
  try {
    const ctx = await client.fetchX509Context({ signal: abort.signal });
    return { ctx, elapsedMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (err instanceof WorkloadApiError && err.code === 'workload.aborted') {
      return { failure: io.stopSignal.aborted ? 'interrupted' : timeoutText };
    }
    return { failure: failureText(err, shownAddress) };
  } finally {
    clearTimeout(timer);
    io.stopSignal.removeEventListener('abort', onStop);
  }
}

/** Like spire-agent: every SVID is checked against its own trust domain's bundle; the first that fails, in words. */
function verificationFailure(ctx: X509Context): string | undefined {
  for (const s of ctx.svids) {
    try {
      verifyX509SvidChain(s.certificates.map((c) => c.der), ctx.bundles);
    } catch (err) {
      return `"${s.id.toString()}" SVID failed verification against bundle: ${describeCliError(err)}`;
    }
  }
  return undefined;
}
