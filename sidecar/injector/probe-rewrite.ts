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
  readonly warnings: string[];
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
  const out: ProbeRewrite = { ops: [], originals: {}, warnings: [] };
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
          const rewritten: JsonObject = { path: appProbePath(port, path), port: s.adminPort, scheme: 'HTTP' };
          if (Array.isArray(get['httpHeaders'])) rewritten['httpHeaders'] = get['httpHeaders'];
          out.ops.push({ op: 'replace', path: `${base}${pointer('spec', field, i, kind, 'httpGet')}`, value: rewritten });
          out.originals[`${name}/${kind}`] = get;
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
  return out;
}
