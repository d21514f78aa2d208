import { isAbsolute } from 'node:path';
import type { Clock, Logger } from '../core/index.ts';
import { SpiffeId, TrustDomain } from '../spiffe/index.ts';
import type { KeyType } from './cert-builder.ts';
import { DevAgentError } from './dev-agent-error.ts';
import { describeError } from '../core/index.ts';

/** One trust domain the dev agent is the authority of. */
export interface DevAgentTrustDomain {
  /** Bare trust-domain name, e.g. `example.org`. */
  readonly name: string;
  /** Trust domains whose bundles this trust domain's workloads receive (one direction). */
  readonly federatesWith?: readonly string[];
}

/** One workload socket: whoever can open it gets these identities. */
export interface DevAgentWorkload {
  /** Absolute path of the Unix socket. */
  readonly socketPath: string;
  /** SPIFFE IDs, in the order served; the first is the default identity. */
  readonly ids: readonly string[];
  /** Hints, index-aligned with `ids` (missing entries mean no hint). */
  readonly hints?: readonly string[];
  /** Socket file mode, default 0o600. */
  readonly socketMode?: number;
}

/** Options of {@link DevAgent.start}. */
export interface DevAgentOptions {
  readonly trustDomains: readonly DevAgentTrustDomain[];
  readonly workloads: readonly DevAgentWorkload[];
  /** Lifetime of X509-SVIDs; each is rotated at half of it. */
  readonly svidTtlMs: number;
  /** Lifetime of minted JWT-SVIDs (default 5 min, SPIRE's default). */
  readonly jwtTtlMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Key type of CAs, workload keys and (where possible) JWT keys. Default ec-p256. */
  readonly keyType?: KeyType;
  /**
   * Absolute path of a directory that keeps each trust domain's CA and JWT
   * key across restarts (created 0700, files 0600; see AuthorityStore), so a
   * restarted agent serves the same trust bundle, as a restarted SPIRE agent
   * does. Default: none; the authorities live in memory and every start is
   * a new CA.
   */
  readonly stateDir?: string;
  /**
   * Issue X509-SVIDs from an intermediate CA below each trust domain's root,
   * as SPIRE does with an UpstreamAuthority: the Workload API then sends
   * leaf + intermediate in `x509_svid` while the bundle holds only the root.
   * Default false (leaf signed by the root). A CA saved in `stateDir` in the
   * other mode is refused, not converted.
   */
  readonly intermediate?: boolean;
}

/** Parses workload IDs: valid, with a path, in a configured trust domain, no duplicates. Problems are appended. */
export function parseIds(ids: readonly string[], where: string, known: ReadonlySet<string>, problems: string[]): SpiffeId[] {
  const out: SpiffeId[] = [];
  for (const raw of ids) {
    let id: SpiffeId;
    try {
      id = SpiffeId.parse(raw);
    } catch (err) {
      problems.push(`${where}: ${JSON.stringify(raw)} is not a SPIFFE ID (${describeError(err)})`);
      continue;
    }
    if (id.isRoot()) {
      problems.push(`${where}: ${raw} has no path; a workload SVID needs one (X509-SVID §2)`);
      continue;
    }
    if (!known.has(id.trustDomain.name)) {
      problems.push(`${where}: ${raw} is in trust domain ${id.trustDomain.name}, which is not configured`);
      continue;
    }
    if (out.some((o) => o.equals(id))) {
      problems.push(`${where}: ${raw} is listed twice`);
      continue;
    }
    out.push(id);
  }
  return out;
}

/** Options after validation. */
export interface ValidatedConfig {
  tds: Map<string, { td: TrustDomain; federatesWith: TrustDomain[] }>;
  workloads: { socketPath: string; mode: number; ids: SpiffeId[]; hints: string[] }[];
}

/** Checks every option and throws one 'devagent.bad_config' listing all problems. */
export function validateOptions(opts: DevAgentOptions): ValidatedConfig {
  const problems: string[] = [];
  const tds = new Map<string, { td: TrustDomain; federatesWith: TrustDomain[] }>();
  if (!opts.trustDomains || opts.trustDomains.length === 0) problems.push('trustDomains: at least one trust domain is required');
  for (const t of opts.trustDomains ?? []) {
    try {
      const td = TrustDomain.parse(t.name);
      if (td.name !== t.name) problems.push(`trustDomains: write ${JSON.stringify(t.name)} as a bare name (${td.name})`);
      else if (tds.has(td.name)) problems.push(`trustDomains: ${td.name} is listed twice`);
      else tds.set(td.name, { td, federatesWith: [] });
    } catch (err) {
      problems.push(`trustDomains: ${JSON.stringify(t.name)} is not a trust domain (${describeError(err)})`);
    }
  }
  for (const t of opts.trustDomains ?? []) {
    const entry = tds.get(t.name);
    for (const f of t.federatesWith ?? []) {
      const other = tds.get(f);
      if (!other) problems.push(`trustDomains: ${t.name} federates with ${JSON.stringify(f)}, which is not a configured trust domain`);
      else if (other === entry) problems.push(`trustDomains: ${t.name} cannot federate with itself`);
      else if (entry && !entry.federatesWith.some((x) => x.equals(other.td))) entry.federatesWith.push(other.td);
    }
  }
  if (!Number.isFinite(opts.svidTtlMs) || opts.svidTtlMs < 1000) problems.push('svidTtlMs: must be at least 1000 ms');
  if (opts.jwtTtlMs !== undefined && (!Number.isFinite(opts.jwtTtlMs) || opts.jwtTtlMs < 1000)) {
    problems.push('jwtTtlMs: must be at least 1000 ms');
  }
  if (opts.intermediate !== undefined && typeof opts.intermediate !== 'boolean') problems.push('intermediate: must be true or false');
  if (opts.stateDir !== undefined && (typeof opts.stateDir !== 'string' || !isAbsolute(opts.stateDir))) {
    problems.push('stateDir: must be an absolute path');
  }
  const workloads: ValidatedConfig['workloads'] = [];
  const paths = new Set<string>();
  if (!opts.workloads || opts.workloads.length === 0) problems.push('workloads: at least one workload socket is required');
  for (const w of opts.workloads ?? []) {
    const where = `workload ${w.socketPath}`;
    if (!isAbsolute(w.socketPath)) problems.push(`${where}: socketPath must be absolute`);
    if (paths.has(w.socketPath)) problems.push(`${where}: socketPath is listed twice`);
    paths.add(w.socketPath);
    if (w.socketMode !== undefined && (!Number.isInteger(w.socketMode) || w.socketMode < 0 || w.socketMode > 0o777)) {
      problems.push(`${where}: socketMode must be a file mode such as 0o600`);
    }
    const ids = parseIds(w.ids ?? [], where, new Set(tds.keys()), problems);
    if ((w.hints?.length ?? 0) > (w.ids?.length ?? 0)) problems.push(`${where}: more hints than ids`);
    for (const h of w.hints ?? []) if (Buffer.byteLength(h) > 1024) problems.push(`${where}: hint longer than 1024 bytes`);
    workloads.push({ socketPath: w.socketPath, mode: w.socketMode ?? 0o600, ids, hints: [...(w.hints ?? [])] });
  }
  if (problems.length > 0) throw new DevAgentError('devagent.bad_config', `invalid options: ${problems.join('; ')}`);
  return { tds, workloads };
}
