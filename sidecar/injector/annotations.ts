/**
 * The Kubernetes annotation and label names the injector reads and writes.
 * They are API: documented in docs/kubernetes.md and matched by manifests.
 */
const P = 'spiffe-sidecar.io/';

/** Pod annotations the injector reads (overrides) or writes (status, app-probes). */
export const ANNOTATIONS = {
  /** "true" opts a pod in; "false" opts it out and wins over the namespace label. */
  inject: `${P}inject`,
  /** Written by the injector: JSON describing what it added. Its presence makes injection idempotent. */
  status: `${P}status`,
  /** Written by the injector: JSON of the original httpGet probes it rewrote, keyed "container/probe". */
  appProbes: `${P}app-probes`,
  /** "false" uses a regular first container with a postStart hook instead of a native sidecar (Kubernetes < 1.29). */
  nativeSidecar: `${P}native-sidecar`,
  /** "csi" (default) or "hostpath": how the Workload API socket reaches the pod. */
  workloadSocket: `${P}workload-socket`,
  /** "true"/"false": dual-stack listeners and ip6tables rules (default: the injector's setting, on). */
  ipv6: `${P}ipv6`,
  /** Comma-separated TCP ports whose inbound traffic goes through the sidecar, "*" for all, "" for none. */
  inboundPorts: `${P}inbound-ports`,
  /** The port of the app the inbound proxy forwards to (default: the first inbound port). */
  appPort: `${P}app-port`,
  /** Comma-separated inbound ports never redirected (with inbound-ports "*"). */
  excludeInboundPorts: `${P}exclude-inbound-ports`,
  /** Comma-separated destination ports the app reaches directly, not through the sidecar. */
  excludeOutboundPorts: `${P}exclude-outbound-ports`,
  /** Comma-separated IPv4 and IPv6 CIDRs the app reaches directly. */
  excludeOutboundCidrs: `${P}exclude-outbound-cidrs`,
  /** "true"/"false": redirect the app's outbound TCP to the outbound proxy (default "true"). */
  interceptOutbound: `${P}intercept-outbound`,
  /** Name of a ConfigMap in the pod's namespace with key policy.yaml: the inbound authorization policy. */
  policyConfigMap: `${P}policy-configmap`,
  /** Name of a ConfigMap in the pod's namespace with key sidecar.yaml: the full sidecar config (outbound upstreams). */
  configConfigMap: `${P}config-configmap`,
  /** Sidecar log level: trace, debug, info, warn, error, fatal, silent. */
  logLevel: `${P}log-level`,
  /** Resource overrides for the sidecar container (Kubernetes quantities). */
  cpuRequest: `${P}cpu-request`,
  memoryRequest: `${P}memory-request`,
  cpuLimit: `${P}cpu-limit`,
  memoryLimit: `${P}memory-limit`,
} as const;

/** Namespace label: "enabled" injects every pod of the namespace that does not opt out. */
export const NAMESPACE_INJECT_LABEL = `${P}inject`;

/** Prometheus scrape annotations set on injected pods (kubernetes_sd pod role convention). */
export const PROMETHEUS_ANNOTATIONS = {
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
} as const;

/** Names of everything the injector adds to a pod. */
export const INJECTED_NAMES = {
  sidecar: 'spiffe-sidecar',
  init: 'spiffe-sidecar-init',
  workloadApiVolume: 'spiffe-sidecar-workload-api',
  policyVolume: 'spiffe-sidecar-policy',
  configVolume: 'spiffe-sidecar-config',
} as const;

/** Where things are mounted in the sidecar container. */
export const MOUNT_PATHS = {
  workloadApi: '/spiffe-workload-api',
  policyDir: '/etc/spiffe-sidecar/policy',
  configDir: '/etc/spiffe-sidecar/config',
} as const;

/** The keys the policy and config ConfigMaps must have. */
export const CONFIGMAP_KEYS = { policy: 'policy.yaml', config: 'sidecar.yaml' } as const;
