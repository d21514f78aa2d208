import { parseCidrList, parsePort, parseQuantity, type LogLevel } from './annotation-values.ts';
import { InjectorError } from './injector-error.ts';

/** Requests and limits for one container (Kubernetes quantities). */
export interface ResourceSettings {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/**
 * Cluster-wide injection settings: what the webhook or `spiffe-sidecar
 * inject` was started with. Pod annotations override some of them per pod.
 */
export interface InjectionSettings {
  /** Image of the sidecar and of the iptables init container (one image, two commands). */
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** The uid the sidecar runs as; the iptables rules let this uid's traffic through untouched. */
  readonly proxyUid: number;
  readonly inboundPort: number;
  readonly outboundPort: number;
  readonly adminPort: number;
  /** Native sidecar (init container with restartPolicy Always, Kubernetes >= 1.29) unless a pod says otherwise. */
  readonly nativeSidecar: boolean;
  /** How the Workload API socket reaches the pod unless a pod says otherwise. */
  readonly workloadSocket: 'csi' | 'hostpath';
  /** Node directory holding the SPIRE agent socket (for `hostpath`). */
  readonly hostSocketDir: string;
  /** File name of the agent socket inside that directory (and inside the CSI volume). */
  readonly socketFileName: string;
  readonly sidecarResources: ResourceSettings;
  readonly initResources: ResourceSettings;
  /** Log level when the pod does not set one; undefined leaves the sidecar's default. */
  readonly logLevel?: LogLevel;
  /**
   * Listen on both families (`[::]`, dual-stack) and install ip6tables rules
   * beside the iptables ones, unless a pod says otherwise. Turn off only
   * where nodes boot with IPv6 disabled: binding `[::]` fails there.
   */
  readonly ipv6: boolean;
  /** Applied to every pod in addition to its own annotation. */
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly string[];
  readonly excludeInboundPorts: readonly number[];
  /** Arguments of the sidecar container before any `--config FILE` (the image's entrypoint is the CLI). */
  readonly sidecarArgs: readonly string[];
  /** Seconds the fallback postStart hook waits for /readyz before failing the container. */
  readonly readyWaitSeconds: number;
}

/** The defaults for everything but the image. */
export const DEFAULT_INJECTION_SETTINGS: Omit<InjectionSettings, 'image'> = {
  imagePullPolicy: 'IfNotPresent',
  proxyUid: 1337,
  inboundPort: 15006,
  outboundPort: 15001,
  adminPort: 15020,
  nativeSidecar: true,
  ipv6: true,
  workloadSocket: 'csi',
  hostSocketDir: '/run/spire/agent-sockets',
  socketFileName: 'spire-agent.sock',
  sidecarResources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
  initResources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
  excludeOutboundPorts: [],
  excludeOutboundCidrs: [],
  excludeInboundPorts: [],
  sidecarArgs: ['run'],
  readyWaitSeconds: 60,
};

/**
 * Fills defaults and validates settings; throws 'injector.settings_invalid'
 * listing every problem. The result is frozen.
 */
export function injectionSettings(input: Partial<InjectionSettings> & { readonly image: string }): InjectionSettings {
  const s: InjectionSettings = { ...DEFAULT_INJECTION_SETTINGS, ...input };
  const problems: string[] = [];
  // An image reference with whitespace or a missing name would be refused by
  // the API server only after the pod was patched; catch it at start-up.
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(s.image)) problems.push(`image: "${s.image}" is not an image reference`);
  if (!['Always', 'IfNotPresent', 'Never'].includes(s.imagePullPolicy)) problems.push(`imagePullPolicy: "${s.imagePullPolicy}" must be Always, IfNotPresent or Never`);
  if (!Number.isInteger(s.proxyUid) || s.proxyUid <= 0 || s.proxyUid > 2 ** 31 - 1) {
    problems.push(`proxyUid: ${s.proxyUid} must be a non-root uid (1-2147483647)`);
  }
  const ports = { inboundPort: s.inboundPort, outboundPort: s.outboundPort, adminPort: s.adminPort };
  for (const [name, v] of Object.entries(ports)) {
    if (!parsePort(String(v)).ok) problems.push(`${name}: ${v} is not a port (1-65535)`);
  }
  if (new Set(Object.values(ports)).size !== 3) problems.push('inboundPort, outboundPort and adminPort must differ');
  if (!['csi', 'hostpath'].includes(s.workloadSocket)) problems.push(`workloadSocket: "${s.workloadSocket}" must be csi or hostpath`);
  if (!s.hostSocketDir.startsWith('/')) problems.push(`hostSocketDir: "${s.hostSocketDir}" must be an absolute path`);
  if (!/^[A-Za-z0-9._-]+$/.test(s.socketFileName)) problems.push(`socketFileName: "${s.socketFileName}" must be a plain file name`);
  for (const [name, r] of [['sidecarResources', s.sidecarResources], ['initResources', s.initResources]] as const) {
    for (const [kind, v] of [['requests.cpu', r.requests.cpu], ['requests.memory', r.requests.memory], ['limits.cpu', r.limits.cpu], ['limits.memory', r.limits.memory]]) {
      const q = parseQuantity(v!);
      if (!q.ok) problems.push(`${name}.${kind}: ${q.message}`);
    }
  }
  for (const p of [...s.excludeOutboundPorts, ...s.excludeInboundPorts]) {
    if (!parsePort(String(p)).ok) problems.push(`excluded port ${p} is not a port (1-65535)`);
  }
  if (typeof s.ipv6 !== 'boolean') problems.push(`ipv6: ${String(s.ipv6)} must be true or false`);
  const cidrs = parseCidrList(s.excludeOutboundCidrs.join(','));
  if (!cidrs.ok) problems.push(`excludeOutboundCidrs: ${cidrs.message}`);
  if (!Number.isInteger(s.readyWaitSeconds) || s.readyWaitSeconds < 1 || s.readyWaitSeconds > 3600) {
    problems.push(`readyWaitSeconds: ${s.readyWaitSeconds} must be 1-3600`);
  }
  if (problems.length > 0) throw new InjectorError('injector.settings_invalid', problems);
  return Object.freeze(s);
}
