import {
  parseBoolean,
  parseConfigMapName,
  parseCidrList,
  parseLogLevel,
  parsePort,
  parsePortList,
  parsePortsOrAll,
  parseQuantity,
  type LogLevel,
  type Parsed,
} from './annotation-values.ts';
import { ANNOTATIONS, PROMETHEUS_ANNOTATIONS } from './annotations.ts';
import type { InjectionSettings, ResourceSettings } from './injection-settings.ts';
import { isJsonObject, tcpContainerPorts, type PodView } from './pod-view.ts';

/** What the injector will add to one pod: settings merged with the pod's annotations. */
export interface PodPlan {
  readonly native: boolean;
  /** Dual-stack listeners (`[::]`) and ip6tables rules beside the iptables ones. */
  readonly ipv6: boolean;
  readonly workloadSocket: 'csi' | 'hostpath';
  /** Inbound ports redirected to the inbound listener ('*' = every TCP port but the excluded ones). */
  readonly inboundPorts: readonly number[] | '*';
  /** The app port the inbound proxy forwards to; undefined disables the inbound proxy. */
  readonly appPort: number | undefined;
  readonly excludeInboundPorts: readonly number[];
  readonly interceptOutbound: boolean;
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly string[];
  readonly policyConfigMap: string | undefined;
  readonly configConfigMap: string | undefined;
  readonly logLevel: LogLevel | undefined;
  readonly resources: ResourceSettings;
}

/** Merges two lists without duplicates, first list first. */
function union<T>(a: readonly T[], b: readonly T[]): T[] {
  return [...new Set([...a, ...b])];
}

/**
 * Reads the pod's `spiffe-sidecar.io/*` overrides and decides ports, volumes
 * and resources. Pure. `problems` (non-empty) means the pod asked for
 * something the injector cannot do; `warnings` are for the user (the
 * webhook returns them to kubectl).
 */
export function planPod(view: PodView, settings: InjectionSettings): { plan?: PodPlan; problems: string[]; warnings: string[] } {
  const r = new AnnotationReader(view.annotations ?? {});
  const native = r.read(ANNOTATIONS.nativeSidecar, parseBoolean) ?? settings.nativeSidecar;
  const ipv6 = r.read(ANNOTATIONS.ipv6, parseBoolean) ?? settings.ipv6;
  const workloadSocket = r.read(ANNOTATIONS.workloadSocket, parseWorkloadSocket) ?? settings.workloadSocket;
  const { inboundPorts, appPort } = readInboundPorts(r, view, settings);
  const excludeInboundPorts = union(settings.excludeInboundPorts, r.read(ANNOTATIONS.excludeInboundPorts, parsePortList) ?? []);
  const excludeOutboundPorts = union(settings.excludeOutboundPorts, r.read(ANNOTATIONS.excludeOutboundPorts, parsePortList) ?? []);
  const excludeOutboundCidrs = union(settings.excludeOutboundCidrs, r.read(ANNOTATIONS.excludeOutboundCidrs, parseCidrList) ?? []);
  const policyConfigMap = r.read(ANNOTATIONS.policyConfigMap, parseConfigMapName);
  const configConfigMap = r.read(ANNOTATIONS.configConfigMap, parseConfigMapName);
  // On by default: a pod whose outbound calls leave in plaintext is not
  // protected by its sidecar. Without a config file the sidecar runs in
  // transparent mode (sidecar-containers.ts), which needs no configuration.
  const interceptOutbound = r.read(ANNOTATIONS.interceptOutbound, parseBoolean) ?? true;
  const logLevel = r.read(ANNOTATIONS.logLevel, parseLogLevel) ?? settings.logLevel;
  if (policyConfigMap !== undefined && appPort === undefined) {
    r.problems.push(`annotation ${ANNOTATIONS.policyConfigMap}: the pod has no app port for the inbound proxy; set ${ANNOTATIONS.appPort}`);
  }
  const resources = readResources(r.ann, settings.sidecarResources, r.problems);
  const warnings = podWarnings(view, settings, { native, inboundPorts, appPort, configConfigMap });
  if (r.problems.length > 0) return { problems: r.problems, warnings };
  return {
    plan: {
      native,
      ipv6,
      workloadSocket,
      inboundPorts,
      appPort,
      excludeInboundPorts,
      interceptOutbound,
      excludeOutboundPorts,
      excludeOutboundCidrs,
      policyConfigMap,
      configConfigMap,
      logLevel,
      resources,
    },
    problems: r.problems,
    warnings,
  };
}

/** The pod's annotations, read one at a time; a value that does not parse becomes a problem naming its annotation. */
class AnnotationReader {
  readonly ann: Readonly<Record<string, string>>;
  readonly problems: string[] = [];

  constructor(ann: Readonly<Record<string, string>>) {
    this.ann = ann;
  }

  /** The parsed value; undefined when the annotation is absent or does not parse. */
  read<T>(key: string, parse: (s: string) => Parsed<T>): T | undefined {
    const raw = this.ann[key];
    if (raw === undefined) return undefined;
    const r = parse(raw);
    if (r.ok) return r.value;
    this.problems.push(`annotation ${key}: ${r.message}`);
    return undefined;
  }
}

function parseWorkloadSocket(s: string): Parsed<'csi' | 'hostpath'> {
  return s === 'csi' || s === 'hostpath' ? { ok: true, value: s } : { ok: false, message: `"${s}" must be "csi" or "hostpath"` };
}

/** The captured inbound ports and the app port they reach; neither may be one of the sidecar's own ports. */
function readInboundPorts(r: AnnotationReader, view: PodView, settings: InjectionSettings): { inboundPorts: readonly number[] | '*'; appPort: number | undefined } {
  // The inbound proxy forwards to one app port. By default it is the first
  // declared TCP containerPort, and only that port is captured: other
  // declared ports (metrics, debug) keep working in plaintext unless listed.
  const declared = view.containers.flatMap((c) => tcpContainerPorts(c).map((p) => p.port));
  const inboundAnn = r.read(ANNOTATIONS.inboundPorts, parsePortsOrAll);
  const appPortAnn = r.read(ANNOTATIONS.appPort, parsePort);
  const appPort = appPortAnn ?? (Array.isArray(inboundAnn) ? inboundAnn[0] : undefined) ?? declared[0];
  const inboundPorts: readonly number[] | '*' = inboundAnn ?? (appPort !== undefined ? [appPort] : []);
  if (inboundPorts === '*' && appPort === undefined) {
    r.problems.push(`annotation ${ANNOTATIONS.inboundPorts}: "*" needs ${ANNOTATIONS.appPort} or a declared containerPort to forward to`);
  }
  const own = [settings.inboundPort, settings.outboundPort, settings.adminPort];
  if (Array.isArray(inboundPorts)) {
    for (const p of inboundPorts.filter((x) => own.includes(x))) {
      r.problems.push(`annotation ${ANNOTATIONS.inboundPorts}: port ${p} is one of the sidecar's own ports (${own.join(', ')})`);
    }
  }
  if (appPort !== undefined && own.includes(appPort)) {
    r.problems.push(`app port ${appPort} is one of the sidecar's own ports (${own.join(', ')}); set ${ANNOTATIONS.appPort}`);
  }
  return { inboundPorts, appPort };
}

/** What the user should know about a pod the injector can still handle. */
function podWarnings(
  view: PodView,
  settings: InjectionSettings,
  p: Pick<PodPlan, 'native' | 'inboundPorts' | 'appPort' | 'configConfigMap'>,
): string[] {
  const warnings: string[] = [];
  if (!p.native && (view.restartPolicy === 'Never' || view.restartPolicy === 'OnFailure')) {
    // A regular container never exits on its own, so the pod (and its Job)
    // would never complete; a native sidecar is stopped by the kubelet once
    // the app containers have finished (KEP-753).
    warnings.push(
      `restartPolicy ${view.restartPolicy} with ${ANNOTATIONS.nativeSidecar}: "false": the sidecar keeps running after the app containers finish, so a Job never completes; use native sidecars (Kubernetes >= 1.29)`,
    );
  }
  const capturedCount = p.inboundPorts === '*' ? Infinity : p.inboundPorts.length;
  // Without a config file the injected env turns on inbound.transparent, so
  // each captured port reaches the same port of the app; a config file decides itself.
  if (capturedCount > 1 && p.appPort !== undefined && p.configConfigMap !== undefined) {
    warnings.push(
      `every captured inbound port (${p.inboundPorts === '*' ? '*' : p.inboundPorts.join(',')}) is forwarded to app port ${p.appPort} unless the config file sets inbound.transparent: true`,
    );
  }
  warnings.push(...proxyUidWarnings(view, settings.proxyUid));
  const ann = view.annotations ?? {};
  const promSet = Object.values(PROMETHEUS_ANNOTATIONS).filter((k) => ann[k] !== undefined);
  if (promSet.length > 0) {
    warnings.push(`${promSet.join(', ')} already set: left unchanged, so Prometheus will not scrape the sidecar's :${settings.adminPort}/metrics`);
  }
  return warnings;
}

/** One warning per app container that runs as the sidecar's uid, whose traffic the iptables rules let through. */
function proxyUidWarnings(view: PodView, proxyUid: number): string[] {
  const warnings: string[] = [];
  for (const [i, c] of view.containers.entries()) {
    const sc = c['securityContext'];
    const uid = isJsonObject(sc) && typeof sc['runAsUser'] === 'number' ? sc['runAsUser'] : view.podRunAsUser;
    if (uid === proxyUid) {
      warnings.push(`container ${String(c['name'] ?? i)} runs as uid ${uid}, the sidecar's uid: its outbound traffic bypasses the sidecar`);
    }
  }
  return warnings;
}

function readResources(ann: Readonly<Record<string, string>>, defaults: ResourceSettings, problems: string[]): ResourceSettings {
  const pick = (key: string, fallback: string): { text: string; value: number } | undefined => {
    const r = parseQuantity(ann[key] ?? fallback);
    if (r.ok) return r.value;
    problems.push(`annotation ${key}: ${r.message}`);
    return undefined;
  };
  const cpuReq = pick(ANNOTATIONS.cpuRequest, defaults.requests.cpu);
  const memReq = pick(ANNOTATIONS.memoryRequest, defaults.requests.memory);
  const cpuLim = pick(ANNOTATIONS.cpuLimit, defaults.limits.cpu);
  const memLim = pick(ANNOTATIONS.memoryLimit, defaults.limits.memory);
  // The API server refuses a container whose request exceeds its limit, with
  // a message about a container the user never wrote; say it here instead.
  if (cpuReq && cpuLim && cpuReq.value > cpuLim.value) problems.push(`cpu request ${cpuReq.text} is above the cpu limit ${cpuLim.text}`);
  if (memReq && memLim && memReq.value > memLim.value) problems.push(`memory request ${memReq.text} is above the memory limit ${memLim.text}`);
  return {
    requests: { cpu: cpuReq?.text ?? defaults.requests.cpu, memory: memReq?.text ?? defaults.requests.memory },
    limits: { cpu: cpuLim?.text ?? defaults.limits.cpu, memory: memLim?.text ?? defaults.limits.memory },
  };
}
