import { isAbsolute, resolve } from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../core/index.ts';
import { DevAgent, type DevAgentOptions, type KeyType } from '../devagent/index.ts';
import { SpiffeId, TrustDomain } from '../spiffe/index.ts';
import { durationFlag } from './duration-flag.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { parseFlags as parseCliFlags } from './parse-flags.ts';
import { describeError } from '../core/index.ts';

const KEY_TYPES: readonly KeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-4096'];

const HELP = `usage: spiffe-sidecar dev-agent --trust-domain TD --workload PATH=SPIFFE_ID[,SPIFFE_ID...] [options]

Runs an embedded SPIFFE Workload API server with an in-memory CA per trust
domain. Identity is per socket: whoever can open PATH gets its SVIDs.
For development and tests only: keys live in memory, or in DIR with --state-dir.

options:
  --trust-domain TD        a trust domain to be the authority of (repeatable, required)
  --workload PATH=ID[,ID]  a socket (absolute path) and its SPIFFE IDs; the first ID is the
                           default identity (repeatable, required)
  --federate TD=OTHER      workloads of TD also receive OTHER's bundles (repeatable, one direction)
  --ttl DURATION           X509-SVID lifetime, rotated at half of it (default 1h)
  --jwt-ttl DURATION       JWT-SVID lifetime (default 5m)
  --key-type TYPE          ${KEY_TYPES.join(' | ')} (default ec-p256)
  --socket-mode MODE       octal file mode of the sockets (default 0600)
  --state-dir DIR          keep each trust domain's CA and JWT key in DIR (created 0700, files 0600)
                           so a restarted agent keeps its CA; a corrupt or mismatched file is an error
  --intermediate           issue SVIDs from an intermediate CA below each root, as SPIRE does with an
                           UpstreamAuthority: SVID chains are leaf + intermediate, bundles only the root
  -h, --help               show this help

Durations: 500ms, 30s, 5m, 1h. Logs one JSON line per event on stdout; stops on SIGINT/SIGTERM.
`;

function parseFlags(argv: readonly string[]) {
  return parseCliFlags(argv, {
    'trust-domain': { type: 'string', multiple: true },
    workload: { type: 'string', multiple: true },
    federate: { type: 'string', multiple: true },
    ttl: { type: 'string' },
    'jwt-ttl': { type: 'string' },
    'key-type': { type: 'string' },
    'socket-mode': { type: 'string' },
    'state-dir': { type: 'string' },
    intermediate: { type: 'boolean' },
  }).values;
}

type DevAgentFlags = ReturnType<typeof parseFlags>;

/** Turns the command line into DevAgent options; every problem is a UsageError naming its flag. */
export function devAgentOptionsFromArgs(argv: readonly string[]): DevAgentOptions | 'help' {
  const v = parseFlags(argv);
  if (v.help) return 'help';
  const tdNames = readTrustDomains(v['trust-domain'] ?? []);
  const federates = readFederates(v.federate ?? [], tdNames);
  const workloads = readWorkloads(v.workload ?? [], tdNames);
  const svidTtlMs = v.ttl === undefined ? 3_600_000 : durationFlag('--ttl', v.ttl);
  if (svidTtlMs < 1000) throw new UsageError(`--ttl ${v.ttl}: must be at least 1s`);
  const jwtTtlMs = v['jwt-ttl'] === undefined ? 300_000 : durationFlag('--jwt-ttl', v['jwt-ttl']);
  if (jwtTtlMs < 1000) throw new UsageError(`--jwt-ttl ${v['jwt-ttl']}: must be at least 1s`);
  const keyType = readKeyType(v);
  const socketMode = readSocketMode(v);
  const stateDirFlag = v['state-dir'];
  if (stateDirFlag !== undefined && stateDirFlag.trim() === '') throw new UsageError('--state-dir: must name a directory');

  return {
    trustDomains: tdNames.map((name) => ({ name, federatesWith: federates.get(name)! })),
    workloads: [...workloads].map(([socketPath, ids]) => ({ socketPath, ids, ...(socketMode !== undefined ? { socketMode } : {}) })),
    svidTtlMs,
    jwtTtlMs,
    ...(keyType ? { keyType } : {}),
    ...(stateDirFlag !== undefined ? { stateDir: resolve(stateDirFlag) } : {}),
    ...(v.intermediate ? { intermediate: true } : {}),
  };
}

/** The `--trust-domain` names, each a bare trust domain name given once; at least one. */
function readTrustDomains(flags: readonly string[]): string[] {
  const tdNames: string[] = [];
  for (const raw of flags) {
    let td: TrustDomain;
    try {
      td = TrustDomain.parse(raw);
    } catch (err) {
      throw new UsageError(`--trust-domain ${JSON.stringify(raw)}: ${describeError(err)}`);
    }
    if (td.name !== raw) throw new UsageError(`--trust-domain ${JSON.stringify(raw)}: give the bare name (${td.name})`);
    if (tdNames.includes(td.name)) throw new UsageError(`--trust-domain ${raw}: given twice`);
    tdNames.push(td.name);
  }
  if (tdNames.length === 0) throw new UsageError('--trust-domain: at least one is required');
  return tdNames;
}

/** The `--federate TD=OTHER` pairs: for each trust domain, the ones whose bundles its workloads also receive. */
function readFederates(flags: readonly string[], tdNames: readonly string[]): Map<string, string[]> {
  const federates = new Map<string, string[]>(tdNames.map((n) => [n, []]));
  for (const raw of flags) {
    const [from, to, ...rest] = raw.split('=');
    if (!from || !to || rest.length > 0) throw new UsageError(`--federate ${JSON.stringify(raw)}: expected TD=OTHER_TD`);
    for (const n of [from, to]) {
      if (!federates.has(n)) throw new UsageError(`--federate ${raw}: ${n} is not given with --trust-domain`);
    }
    if (from === to) throw new UsageError(`--federate ${raw}: a trust domain cannot federate with itself`);
    federates.get(from)!.push(to);
  }
  return federates;
}

/** The `--workload PATH=ID[,ID]` sockets and their SPIFFE IDs; a path given twice collects both lists. */
function readWorkloads(flags: readonly string[], tdNames: readonly string[]): Map<string, string[]> {
  const workloads = new Map<string, string[]>();
  for (const raw of flags) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`--workload ${JSON.stringify(raw)}: expected /absolute/path.sock=spiffe://td/path[,spiffe://...]`);
    const path = raw.slice(0, eq);
    if (!isAbsolute(path)) throw new UsageError(`--workload ${raw}: the socket path must be absolute`);
    const ids = workloads.get(path) ?? [];
    for (const idText of raw.slice(eq + 1).split(',')) {
      checkWorkloadId(raw, idText, tdNames);
      if (ids.includes(idText)) throw new UsageError(`--workload ${raw}: ${idText} is given twice for ${path}`);
      ids.push(idText);
    }
    workloads.set(path, ids);
  }
  if (workloads.size === 0) throw new UsageError('--workload: at least one is required');
  return workloads;
}

/** An ID of `--workload raw`: a SPIFFE ID with a path, in a trust domain given with --trust-domain. */
function checkWorkloadId(raw: string, idText: string, tdNames: readonly string[]): void {
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(idText);
  } catch (err) {
    throw new UsageError(`--workload ${raw}: ${JSON.stringify(idText)} is not a SPIFFE ID (${describeError(err)})`);
  }
  if (id.isRoot()) throw new UsageError(`--workload ${raw}: ${idText} needs a path (spiffe://td/name)`);
  if (!tdNames.includes(id.trustDomain.name)) {
    throw new UsageError(`--workload ${raw}: trust domain ${id.trustDomain.name} is not given with --trust-domain`);
  }
}

function readKeyType(v: DevAgentFlags): KeyType | undefined {
  const k = v['key-type'];
  if (k === undefined) return undefined;
  if (!(KEY_TYPES as readonly string[]).includes(k)) throw new UsageError(`--key-type ${JSON.stringify(k)}: must be one of ${KEY_TYPES.join(', ')}`);
  return k as KeyType;
}

function readSocketMode(v: DevAgentFlags): number | undefined {
  const m = v['socket-mode'];
  if (m === undefined) return undefined;
  if (!/^0?[0-7]{3}$/.test(m)) throw new UsageError(`--socket-mode ${JSON.stringify(m)}: must be an octal mode such as 0600`);
  return parseInt(m, 8);
}

/** A JSON-lines logger on the CLI's stdout (pino), one line per event. */
function stdoutLogger(io: CliIo): Logger {
  return pino(
    {
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    io.stdout,
  );
}

/**
 * `spiffe-sidecar dev-agent`: runs the embedded Workload API server until
 * the stop signal, then stops cleanly (sockets removed) and exits 0.
 */
export const devAgentCommand: Command = async (argv, io) => {
  const opts = devAgentOptionsFromArgs(argv);
  if (opts === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const logger = stdoutLogger(io);
  const agent = await DevAgent.start({ ...opts, logger });
  logger.info(
    {
      event: 'ready',
      trust_domains: opts.trustDomains.map((t) => t.name),
      sockets: agent.socketPaths,
      svid_ttl_ms: opts.svidTtlMs,
      ...(opts.stateDir !== undefined ? { state_dir: opts.stateDir } : {}),
      ...(opts.intermediate ? { intermediate: true } : {}),
    },
    'dev agent ready',
  );
  await new Promise<void>((resolve) => {
    if (io.stopSignal.aborted) resolve();
    else io.stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  await agent.stop();
  return 0;
};
