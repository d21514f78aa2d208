import { HEADER_FIELD_VALUE, HEADER_NAME_TOKEN, MAX_PROBE_TARGET_LENGTH, PROBE_FRAMING_HEADERS, isProbeTargetSyntax, probeTargetPath } from '../core/index.ts';
import type { InjectionSettings } from './injection-settings.ts';
import { pointer, type Json, type JsonObject, type JsonPatchOp } from './json-patch.ts';
import type { PodPlan } from './pod-plan.ts';
import { isJsonObject, tcpContainerPorts } from './pod-view.ts';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

/** The admin path prefix that forwards a probe to the app (see docs/kubernetes.md "Probes"). */
export const APP_PROBE_PREFIX = '/app-probe/';

/** True when inbound traffic to `port` is redirected to the sidecar by the pod's rules. */
export function isCapturedInbound(port: number, plan: PodPlan, s: InjectionSettings): boolean {
  if (plan.excludeInboundPorts.includes(port)) return false;
  if (plan.inboundPorts === '*') return port !== s.adminPort && port !== s.inboundPort;
  return plan.inboundPorts.includes(port);
}

/** The admin path that makes the sidecar GET `path` on 127.0.0.1:`port`. */
export function appProbePath(port: number, path: string): string {
  return `${APP_PROBE_PREFIX}${port}${path.startsWith('/') ? path : '/' + path}`;
}

/** The result of {@link rewriteProbes}. */
export interface ProbeRewrite {
  readonly ops: JsonPatchOp[];
  /** "container/probe" → original httpGet, for the app-probes annotation. */
  readonly originals: Record<string, Json>;
  /**
   * The probes the sidecar must serve, one per admin path, in the format of
   * the sidecar's SPIFFE_SIDECAR_APP_PROBES (docs/config.md `admin.appProbes`):
   * `{ port, target, timeout?, headers? }`.
   */
  readonly appProbes: JsonObject[];
  readonly warnings: string[];
}

const MAX_TIMEOUT_SECONDS = 86_400;

/** The probe's httpHeaders that the sidecar can send, warning about the others. */
function probeHeaders(raw: Json | undefined, where: string, warnings: string[]): JsonObject[] {
  if (!Array.isArray(raw)) return [];
  const out: JsonObject[] = [];
  for (const h of raw) {
    if (!isJsonObject(h) || typeof h['name'] !== 'string' || typeof h['value'] !== 'string') continue;
    const name = h['name'];
    const value = h['value'];
    if (!HEADER_NAME_TOKEN.test(name) || PROBE_FRAMING_HEADERS.has(name.toLowerCase()) || !HEADER_FIELD_VALUE.test(value)) {
      warnings.push(`${where}: header ${JSON.stringify(name)} is not sent to the app (the sidecar does not send connection headers or invalid names and values)`);
      continue;
    }
    if (name.toLowerCase() === 'host' && out.some((o) => String(o['name']).toLowerCase() === 'host')) {
      warnings.push(`${where}: only the first Host header is sent to the app`);
      continue;
    }
    out.push({ name, value });
  }
  return out;
}

/** The timeout an entry gets: the probe's timeoutSeconds, else the kubelet's (and the sidecar's) default of 1 s. */
function entrySeconds(e: JsonObject): number {
  return typeof e['timeout'] === 'string' ? Number(e['timeout'].slice(0, -1)) : 1;
}

/**
 * Adds the entry for one rewritten probe. Probes of one port and path
 * share one admin path, hence one entry: the same request keeps the
 * longest timeout; a different query or headers cannot be told apart on
 * that path, so the first probe's request is used and the user warned.
 */
function addEntry(entries: Map<string, { entry: JsonObject; where: string }>, entry: JsonObject, where: string, warnings: string[]): void {
  const key = `${String(entry['port'])} ${probeTargetPath(String(entry['target']))}`;
  const first = entries.get(key);
  if (first === undefined) {
    entries.set(key, { entry, where });
    return;
  }
  const same = first.entry['target'] === entry['target'] && JSON.stringify(first.entry['headers'] ?? []) === JSON.stringify(entry['headers'] ?? []);
  if (!same) {
    warnings.push(`${where}: probes the same port and path as ${first.where} with another query or headers; the sidecar sends ${first.where}'s request for both`);
    return;
  }
  const seconds = Math.max(entrySeconds(first.entry), entrySeconds(entry));
  if (seconds > 1) first.entry['timeout'] = `${seconds}s`;
}

function resolvePort(container: JsonObject, port: Json | undefined): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port !== 'string') return undefined;
  return tcpContainerPorts(container).find((p) => p.name === port)?.port;
}

/**
 * Points the kubelet's httpGet probes of captured ports at the sidecar's
 * admin port. Without it, the kubelet's plaintext probe would be redirected
 * to the mTLS listener and fail, since the kubelet has no SVID. Probes of
 * ports that are not captured keep working as they are and are left alone.
 *
 * `base` is the pointer of the pod template (`''` for a Pod). The ops use
 * the containers' current indexes, so they must come before any op that
 * inserts into `containers` or `initContainers`.
 */
export function rewriteProbes(
  base: string,
  containers: readonly JsonObject[],
  initContainers: readonly JsonObject[] | undefined,
  plan: PodPlan,
  s: InjectionSettings,
): ProbeRewrite {
  const out: ProbeRewrite = { ops: [], originals: {}, appProbes: [], warnings: [] };
  const entries = new Map<string, { entry: JsonObject; where: string }>();
  const lists: [string, readonly JsonObject[]][] = [['containers', containers]];
  // Native sidecars of the user are init containers with probes too.
  if (initContainers) lists.push(['initContainers', initContainers]);
  for (const [field, list] of lists) {
    for (const [i, c] of list.entries()) {
      if (field === 'initContainers' && c['restartPolicy'] !== 'Always') continue;
      const name = String(c['name']);
      for (const kind of PROBES) {
        const probe = c[kind];
        if (!isJsonObject(probe)) continue;
        const where = `container ${name} ${kind}`;
        if (isJsonObject(probe['httpGet'])) {
          const get = probe['httpGet'];
          const port = resolvePort(c, get['port']);
          if (port === undefined) {
            out.warnings.push(`${where}: port ${JSON.stringify(get['port'])} is not a declared port of the container; probe left unchanged`);
            continue;
          }
          if (!isCapturedInbound(port, plan, s)) continue;
          if (typeof get['host'] === 'string' && get['host'] !== '') continue; // probes another host: not our capture
          if (get['scheme'] === 'HTTPS') {
            out.warnings.push(`${where}: an HTTPS probe of captured port ${port} reaches the sidecar's mTLS listener and fails; add ${port} to spiffe-sidecar.io/exclude-inbound-ports`);
            continue;
          }
          const path = typeof get['path'] === 'string' && get['path'] !== '' ? get['path'] : '/';
          const target = path.startsWith('/') ? path : '/' + path;
          if (target.length > MAX_PROBE_TARGET_LENGTH || !isProbeTargetSyntax(target)) {
            out.warnings.push(`${where}: path ${JSON.stringify(path)} cannot be forwarded by the sidecar (only URL characters, percent-encode the others); probe left unchanged and will fail`);
            continue;
          }
          const rewritten: JsonObject = { path: appProbePath(port, target), port: s.adminPort, scheme: 'HTTP' };
          if (Array.isArray(get['httpHeaders'])) rewritten['httpHeaders'] = get['httpHeaders'];
          out.ops.push({ op: 'replace', path: `${base}${pointer('spec', field, i, kind, 'httpGet')}`, value: rewritten });
          out.originals[`${name}/${kind}`] = get;
          const entry: JsonObject = { port, target };
          const seconds = probe['timeoutSeconds'];
          // The sidecar's durations stop at 24h; a longer probe timeout means "never" anyway.
          if (typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 1) entry['timeout'] = `${Math.min(seconds, MAX_TIMEOUT_SECONDS)}s`;
          const headers = probeHeaders(get['httpHeaders'], where, out.warnings);
          if (headers.length > 0) entry['headers'] = headers;
          addEntry(entries, entry, `${name} ${kind}`, out.warnings);
        } else if (isJsonObject(probe['tcpSocket'])) {
          const port = resolvePort(c, probe['tcpSocket']['port']);
          if (port !== undefined && isCapturedInbound(port, plan, s)) {
            out.warnings.push(`${where}: a tcpSocket probe of captured port ${port} only checks that the sidecar accepts connections, not the app`);
          }
        } else if (isJsonObject(probe['grpc'])) {
          const port = probe['grpc']['port'];
          if (typeof port === 'number' && isCapturedInbound(port, plan, s)) {
            out.warnings.push(`${where}: a grpc probe of captured port ${port} reaches the sidecar's mTLS listener and fails; add ${port} to spiffe-sidecar.io/exclude-inbound-ports`);
          }
        }
      }
    }
  }
  out.appProbes.push(...[...entries.values()].map((e) => e.entry));
  return out;
}
