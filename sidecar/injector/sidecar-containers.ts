import {
  ENV_ADMIN_LISTEN,
  ENV_APP_ADDRESS,
  ENV_APP_PROBES,
  ENV_ENDPOINT_SOCKET,
  ENV_INBOUND_LISTEN,
  ENV_INBOUND_TRANSPARENT,
  ENV_LOG_LEVEL,
  ENV_OUTBOUND_LISTEN,
  ENV_POLICY_FILE,
  ENV_TRANSPARENT,
} from '../core/index.ts';
import { CONFIGMAP_KEYS, INJECTED_NAMES, MOUNT_PATHS } from './annotations.ts';
import type { InjectionSettings } from './injection-settings.ts';
import type { JsonObject } from './json-patch.ts';
import type { PodPlan } from './pod-plan.ts';

function httpGet(path: string, port: number): JsonObject {
  return { path, port, scheme: 'HTTP' };
}

/**
 * The postStart hook of the fallback (non-native) sidecar: blocks until
 * /readyz answers 200 or the deadline passes. The kubelet starts the next
 * container only after a postStart hook returns, which is what makes the
 * app wait (the technique of Istio's holdApplicationUntilProxyStarts).
 * A failed hook kills the container, so a sidecar that never becomes ready
 * is restarted instead of letting the app run unprotected.
 */
function readyWaitScript(adminPort: number, seconds: number): string {
  // Ends by running out of work (agent: false leaves no socket open) with
  // exitCode 0 on a 200, or 1 once the deadline has passed.
  return [
    "const http = require('node:http');",
    `const deadline = Date.now() + ${seconds * 1000};`,
    'function retry() {',
    '  if (Date.now() > deadline) { process.exitCode = 1; return; }',
    '  setTimeout(probe, 250);',
    '}',
    'function probe() {',
    `  const req = http.get({ host: '127.0.0.1', port: ${adminPort}, path: '/readyz', timeout: 1000, agent: false }, (res) => {`,
    '    res.resume();',
    '    if (res.statusCode !== 200) retry();',
    '  });',
    "  req.on('timeout', () => req.destroy());",
    "  req.on('error', retry);",
    '}',
    'probe();',
  ].join('\n');
}

/**
 * Builds the sidecar container. Native mode: an init container with
 * `restartPolicy: Always` (Kubernetes >= 1.29 sidecar containers) whose
 * startupProbe on /readyz holds back the app containers until the sidecar
 * has its SVID. Fallback: a regular container with a postStart hook.
 * `appProbes` are the rewritten probes the sidecar must serve (from
 * rewriteProbes); the sidecar answers no other /app-probe/ path.
 */
export function sidecarContainer(plan: PodPlan, s: InjectionSettings, appProbes: readonly JsonObject[] = []): JsonObject {
  const args = [...s.sidecarArgs];
  if (plan.configConfigMap !== undefined) args.push('--config', `${MOUNT_PATHS.configDir}/${CONFIGMAP_KEYS.config}`);
  const ports: JsonObject[] = [];
  if (plan.appPort !== undefined) ports.push({ name: 'spiffe-inbound', containerPort: s.inboundPort, protocol: 'TCP' });
  ports.push({ name: 'spiffe-admin', containerPort: s.adminPort, protocol: 'TCP' });
  return {
    name: INJECTED_NAMES.sidecar,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    args,
    env: sidecarEnv(plan, s, appProbes),
    ports,
    resources: {
      requests: { cpu: plan.resources.requests.cpu, memory: plan.resources.requests.memory },
      limits: { cpu: plan.resources.limits.cpu, memory: plan.resources.limits.memory },
    },
    volumeMounts: sidecarMounts(plan),
    livenessProbe: { httpGet: httpGet('/healthz', s.adminPort), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readinessProbe: { httpGet: httpGet('/readyz', s.adminPort), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    // The uid the iptables rules let through (--uid-owner): only the sidecar
    // may open connections that skip the redirect.
    securityContext: {
      runAsNonRoot: true,
      runAsUser: s.proxyUid,
      runAsGroup: s.proxyUid,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...startupGate(plan, s),
  };
}

/** The sidecar's environment: its listeners, the app's address, and the files it reads. */
function sidecarEnv(plan: PodPlan, s: InjectionSettings, appProbes: readonly JsonObject[]): JsonObject[] {
  // `[::]` binds dual-stack (IPv4 arrives as ::ffff:a.b.c.d), so one
  // listener serves both families; the pod's IPv6 probes and peers reach it.
  const any = plan.ipv6 ? '[::]' : '0.0.0.0';
  const env: JsonObject[] = [
    { name: ENV_ENDPOINT_SOCKET, value: `unix://${MOUNT_PATHS.workloadApi}/${s.socketFileName}` },
    { name: ENV_ADMIN_LISTEN, value: `${any}:${s.adminPort}` },
  ];
  if (plan.appPort !== undefined) {
    env.push({ name: ENV_INBOUND_LISTEN, value: `${any}:${s.inboundPort}` });
    // The app is reached over loopback: the hop sidecar -> app never leaves the pod.
    env.push({ name: ENV_APP_ADDRESS, value: `127.0.0.1:${plan.appPort}` });
    // Without a config file the redirected destination port picks the app
    // port, and opaque streams from peer sidecars are accepted on it
    // (docs/decisions/011 and 014), so a pod with several ports needs nothing more.
    if (plan.configConfigMap === undefined) env.push({ name: ENV_INBOUND_TRANSPARENT, value: 'true' });
  }
  if (plan.interceptOutbound) {
    // ip6tables REDIRECT sends the app's IPv6 connections to ::1, so with
    // IPv6 the listener binds every address; the inbound rules redirect
    // this port to the mTLS listener for traffic from outside the pod
    // (iptables plan-iptables.ts), so it is no open egress proxy.
    env.push({ name: ENV_OUTBOUND_LISTEN, value: plan.ipv6 ? `[::]:${s.outboundPort}` : `127.0.0.1:${s.outboundPort}` });
    // Without a config file there are no upstreams: transparent mode routes
    // each request to its own Host over mTLS (docs/config.md `outbound`).
    if (plan.configConfigMap === undefined) env.push({ name: ENV_TRANSPARENT, value: 'true' });
  }
  if (appProbes.length > 0) env.push({ name: ENV_APP_PROBES, value: JSON.stringify(appProbes) });
  if (plan.policyConfigMap !== undefined) env.push({ name: ENV_POLICY_FILE, value: `${MOUNT_PATHS.policyDir}/${CONFIGMAP_KEYS.policy}` });
  if (plan.logLevel !== undefined) env.push({ name: ENV_LOG_LEVEL, value: plan.logLevel });
  return env;
}

function sidecarMounts(plan: PodPlan): JsonObject[] {
  const mounts: JsonObject[] = [{ name: INJECTED_NAMES.workloadApiVolume, mountPath: MOUNT_PATHS.workloadApi, readOnly: true }];
  if (plan.policyConfigMap !== undefined) mounts.push({ name: INJECTED_NAMES.policyVolume, mountPath: MOUNT_PATHS.policyDir, readOnly: true });
  if (plan.configConfigMap !== undefined) mounts.push({ name: INJECTED_NAMES.configVolume, mountPath: MOUNT_PATHS.configDir, readOnly: true });
  return mounts;
}

/** The fields that hold the app containers back until the sidecar is ready: a startupProbe (native) or a postStart hook. */
function startupGate(plan: PodPlan, s: InjectionSettings): JsonObject {
  if (!plan.native) {
    return { lifecycle: { postStart: { exec: { command: ['node', '-e', readyWaitScript(s.adminPort, s.readyWaitSeconds)] } } } };
  }
  return {
    restartPolicy: 'Always',
    // Next init containers and the app start only once this probe passed.
    startupProbe: {
      httpGet: httpGet('/readyz', s.adminPort),
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: s.readyWaitSeconds,
    },
  };
}

/**
 * Arguments for `spiffe-sidecar iptables apply` in the init container, in
 * `--flag=value` form so an empty list stays one argument.
 */
export function iptablesArgs(plan: PodPlan, s: InjectionSettings): string[] {
  const args = [
    'iptables',
    'apply',
    `--proxy-uid=${s.proxyUid}`,
    `--inbound-port=${s.inboundPort}`,
    `--outbound-port=${s.outboundPort}`,
    `--admin-port=${s.adminPort}`,
    `--inbound-ports=${plan.inboundPorts === '*' ? '*' : plan.inboundPorts.join(',')}`,
  ];
  if (!plan.ipv6) args.push('--no-ipv6');
  if (plan.excludeInboundPorts.length > 0) args.push(`--exclude-inbound-ports=${plan.excludeInboundPorts.join(',')}`);
  if (!plan.interceptOutbound) args.push('--no-outbound');
  else {
    if (plan.excludeOutboundPorts.length > 0) args.push(`--exclude-outbound-ports=${plan.excludeOutboundPorts.join(',')}`);
    if (plan.excludeOutboundCidrs.length > 0) args.push(`--exclude-outbound-cidrs=${plan.excludeOutboundCidrs.join(',')}`);
  }
  return args;
}

/** True when the pod needs iptables rules at all (some inbound port captured, or outbound intercepted). */
export function needsIptables(plan: PodPlan): boolean {
  return plan.interceptOutbound || plan.inboundPorts === '*' || plan.inboundPorts.length > 0;
}

/**
 * The init container that installs the redirect rules in the pod's network
 * namespace and exits. It is the only injected part that runs as root, with
 * NET_ADMIN (change netfilter rules) and NET_RAW (iptables opens a raw
 * socket) and nothing else; it finishes before any app code runs.
 */
export function initContainer(plan: PodPlan, s: InjectionSettings): JsonObject {
  return {
    name: INJECTED_NAMES.init,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    args: iptablesArgs(plan, s),
    resources: {
      requests: { cpu: s.initResources.requests.cpu, memory: s.initResources.requests.memory },
      limits: { cpu: s.initResources.limits.cpu, memory: s.initResources.limits.memory },
    },
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      // Overrides a pod-level runAsNonRoot for this container only.
      runAsNonRoot: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/** The volumes the sidecar mounts. */
export function sidecarVolumes(plan: PodPlan, s: InjectionSettings): JsonObject[] {
  const volumes: JsonObject[] = [
    plan.workloadSocket === 'csi'
      ? // The SPIFFE CSI driver bind-mounts the agent's socket directory; readOnly
        // is required by the driver and keeps the pod from replacing the socket.
        { name: INJECTED_NAMES.workloadApiVolume, csi: { driver: 'csi.spiffe.io', readOnly: true } }
      : // hostPath needs no driver but lets the pod see a node directory; type
        // Directory refuses to start the pod when the agent has not created it.
        { name: INJECTED_NAMES.workloadApiVolume, hostPath: { path: s.hostSocketDir, type: 'Directory' } },
  ];
  if (plan.policyConfigMap !== undefined) {
    volumes.push({ name: INJECTED_NAMES.policyVolume, configMap: { name: plan.policyConfigMap, items: [{ key: CONFIGMAP_KEYS.policy, path: CONFIGMAP_KEYS.policy }] } });
  }
  if (plan.configConfigMap !== undefined) {
    volumes.push({ name: INJECTED_NAMES.configVolume, configMap: { name: plan.configConfigMap, items: [{ key: CONFIGMAP_KEYS.config, path: CONFIGMAP_KEYS.config }] } });
  }
  return volumes;
}
