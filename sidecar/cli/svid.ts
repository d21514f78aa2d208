import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { verifyX509SvidChain, type X509Svid } from '../svid/index.ts';
import {
  SPIFFE_ENDPOINT_SOCKET,
  WorkloadApiClient,
  WorkloadApiError,
  parseEndpointAddress,
  type X509Context,
} from '../workload/index.ts';
import { parseDuration } from '../config/index.ts';
import { UsageError, type Command } from './io.ts';

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

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        socket: { type: 'string' },
        json: { type: 'boolean' },
        write: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

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

/** Text output in the layout of `spire-agent api fetch x509` (facts §6.7). */
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

function failureText(err: unknown): string {
  if (err instanceof WorkloadApiError && err.status) return `${err.status.name}: ${err.status.details}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * `spiffe-sidecar svid`: one FetchX509SVID message, verified and printed
 * (or written to files). Exit 1 with the gRPC status name and the agent's
 * message on failure, e.g. "PermissionDenied: no identity issued".
 */
export const svidCommand: Command = async (argv, io) => {
  const v = parseFlags(argv);
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  let timeoutMs = 5_000;
  if (v.timeout !== undefined) {
    const r = parseDuration(v.timeout, { allowZero: false });
    if (!r.ok) throw new UsageError(`--timeout: ${r.message}`);
    timeoutMs = r.value;
  }
  if (v.socket !== undefined) {
    try {
      parseEndpointAddress(v.socket);
    } catch (err) {
      throw new UsageError(`--socket: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const fail = (message: string): number => {
    io.stderr.write(`spiffe-sidecar svid: ${message}\n`);
    return 1;
  };
  let client: WorkloadApiClient;
  try {
    client = new WorkloadApiClient({ ...(v.socket !== undefined ? { address: v.socket } : {}), env: io.env });
  } catch (err) {
    return fail(failureText(err));
  }
  const abort = new AbortController();
  // A ref'd timer on purpose: the CLI must stay alive until it answers.
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const onStop = (): void => abort.abort();
  io.stopSignal.addEventListener('abort', onStop, { once: true });
  const started = performance.now();
  try {
    let ctx: X509Context;
    try {
      ctx = await client.fetchX509Context({ signal: abort.signal });
    } catch (err) {
      if (err instanceof WorkloadApiError && err.code === 'workload.aborted') {
        return fail(io.stopSignal.aborted ? 'interrupted' : `no answer from ${client.address.target} within ${v.timeout ?? '5s'}`);
      }
      return fail(failureText(err));
    }
    const elapsed = Math.round(performance.now() - started);
    // Like spire-agent: check every SVID against its own trust domain's bundle.
    for (const s of ctx.svids) {
      try {
        verifyX509SvidChain(s.certificates.map((c) => c.der), ctx.bundles);
      } catch (err) {
        return fail(`"${s.id.toString()}" SVID failed verification against bundle: ${failureText(err)}`);
      }
    }
    const written = v.write !== undefined ? await writeFiles(v.write, ctx.svids[0]!, ctx) : [];
    if (v.json) {
      io.stdout.write(JSON.stringify(svidJson(ctx)) + '\n');
    } else {
      io.stdout.write(svidText(ctx, elapsed));
      for (const p of written) io.stdout.write(`Wrote ${p}\n`);
    }
    return 0;
  } finally {
    clearTimeout(timer);
    io.stopSignal.removeEventListener('abort', onStop);
    client.close();
  }
};
