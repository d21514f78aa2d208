import { ANNOTATIONS, INJECTED_NAMES, NAMESPACE_INJECT_LABEL, PROMETHEUS_ANNOTATIONS } from './annotations.ts';
import type { InjectionSettings } from './injection-settings.ts';
import { InjectorError } from './injector-error.ts';
import { pointer, type JsonObject, type JsonPatchOp } from './json-patch.ts';
import { planPod, type PodPlan } from './pod-plan.ts';
import { readPodView, tcpContainerPorts, type PodView } from './pod-view.ts';
import { rewriteProbes, type ProbeRewrite } from './probe-rewrite.ts';
import { initContainer, needsIptables, sidecarContainer, sidecarVolumes } from './sidecar-containers.ts';

/** Options of {@link injectPod}. */
export interface InjectOptions {
  readonly settings: InjectionSettings;
  /** Labels of the pod's namespace; `spiffe-sidecar.io/inject: enabled` opts every pod in. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

/** What {@link injectPod} decided. An empty patch whenever `patched` is false. */
export interface InjectResult {
  readonly patched: boolean;
  /** Why (not) injected, one sentence for logs and kubectl warnings. */
  readonly reason: string;
  /** RFC 6902 operations against the object that was passed in. */
  readonly patch: JsonPatchOp[];
  /** Things the user should know about the injected pod (probes, ports). */
  readonly warnings: string[];
}

/** Version of the status annotation's JSON. */
const STATUS_VERSION = 1;

/**
 * Decides whether a pod wants the sidecar. The pod annotation wins over the
 * namespace label, so one pod can opt out of an enabled namespace. Any
 * annotation value but "true"/"false" is refused: guessing would either run
 * a pod unprotected or add a sidecar nobody asked for.
 */
export function injectionDecision(
  annotations: Readonly<Record<string, string>> | undefined,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): { readonly inject: boolean; readonly reason: string } {
  const value = annotations?.[ANNOTATIONS.inject];
  if (value === 'false') return { inject: false, reason: `opted out by annotation ${ANNOTATIONS.inject}: "false"` };
  if (value === 'true') return { inject: true, reason: `opted in by annotation ${ANNOTATIONS.inject}: "true"` };
  if (value !== undefined) {
    throw new InjectorError('injector.annotation_invalid', [`annotation ${ANNOTATIONS.inject}: "${value}" must be "true" or "false"`]);
  }
  if (namespaceLabels?.[NAMESPACE_INJECT_LABEL] === 'enabled') {
    return { inject: true, reason: `opted in by namespace label ${NAMESPACE_INJECT_LABEL}=enabled` };
  }
  return { inject: false, reason: `not opted in (no annotation ${ANNOTATIONS.inject}: "true" and no namespace label ${NAMESPACE_INJECT_LABEL}=enabled)` };
}

function names(list: readonly JsonObject[] | undefined): string[] {
  return (list ?? []).map((x) => String(x['name']));
}

function alreadyInjected(view: PodView): boolean {
  return (
    view.annotations?.[ANNOTATIONS.status] !== undefined ||
    names(view.containers).includes(INJECTED_NAMES.sidecar) ||
    names(view.initContainers).includes(INJECTED_NAMES.sidecar)
  );
}

function conflicts(view: PodView, s: InjectionSettings): string[] {
  const out: string[] = [];
  const containerNames = [...names(view.containers), ...names(view.initContainers)];
  if (containerNames.includes(INJECTED_NAMES.init)) out.push(`a container is already named ${INJECTED_NAMES.init}`);
  const volumeNames = names(view.volumes);
  for (const v of [INJECTED_NAMES.workloadApiVolume, INJECTED_NAMES.policyVolume, INJECTED_NAMES.configVolume]) {
    if (volumeNames.includes(v)) out.push(`a volume is already named ${v}`);
  }
  for (const c of [...view.containers, ...(view.initContainers ?? [])]) {
    for (const p of tcpContainerPorts(c)) {
      if ([s.inboundPort, s.outboundPort, s.adminPort].includes(p.port)) {
        out.push(`container ${String(c['name'])} declares port ${p.port}, which the sidecar listens on`);
      }
      if (p.name === 'spiffe-inbound' || p.name === 'spiffe-admin') out.push(`container ${String(c['name'])} already has a port named ${p.name}`);
    }
  }
  return out;
}

/** Ops that set annotations, adding the missing `metadata` or `annotations` map as a whole. */
function annotationOps(base: string, view: PodView, add: Record<string, string>): JsonPatchOp[] {
  if (!view.hasMetadata) return [{ op: 'add', path: `${base}/metadata`, value: { annotations: add } }];
  if (view.annotations === undefined) return [{ op: 'add', path: `${base}/metadata/annotations`, value: add }];
  // Keys contain '/', escaped as '~1' by pointer() (RFC 6901).
  return Object.entries(add).map(([k, v]) => ({ op: 'add' as const, path: `${base}${pointer('metadata', 'annotations', k)}`, value: v }));
}

/** Ops that append to an array, adding the whole array when it is absent. */
function appendOps(path: string, existing: readonly unknown[] | undefined, items: JsonObject[]): JsonPatchOp[] {
  if (items.length === 0) return [];
  if (existing === undefined) return [{ op: 'add', path, value: items }];
  return items.map((value) => ({ op: 'add' as const, path: `${path}/-`, value }));
}

/** Ops that insert at the front of an array, adding the whole array when it is absent. */
function prependOps(path: string, existing: readonly unknown[] | undefined, items: JsonObject[]): JsonPatchOp[] {
  if (items.length === 0) return [];
  if (existing === undefined) return [{ op: 'add', path, value: items }];
  return items.map((value, i) => ({ op: 'add' as const, path: `${path}/${i}`, value }));
}

/**
 * Injects the pod template found at pointer `base` inside the object (''
 * for a Pod). `where` names it in error messages ("spec.template").
 * Throws InjectorError for a malformed object ('injector.object_invalid'),
 * a bad annotation ('injector.annotation_invalid') or a name clash
 * ('injector.name_conflict') of a pod that asked for the sidecar.
 */
export function injectPodTemplate(template: unknown, base: string, where: string, opts: InjectOptions): InjectResult {
  const s = opts.settings;
  const read = readPodView(template, where);
  if ('problems' in read) throw new InjectorError('injector.object_invalid', read.problems);
  const view = read.view;
  const decision = injectionDecision(view.annotations, opts.namespaceLabels);
  const skipped = skipReason(view, decision);
  if (skipped !== undefined) return { patched: false, reason: skipped.reason, patch: [], warnings: skipped.warnings };
  const clash = conflicts(view, s);
  if (clash.length > 0) throw new InjectorError('injector.name_conflict', clash);
  const planned = planPod(view, s);
  if (!planned.plan) throw new InjectorError('injector.annotation_invalid', planned.problems);
  const plan = planned.plan;

  const probes = rewriteProbes(base, view.containers, view.initContainers, plan, s);
  const parts: InjectedParts = {
    volumes: sidecarVolumes(plan, s),
    sidecar: sidecarContainer(plan, s, probes.appProbes),
    init: needsIptables(plan) ? [initContainer(plan, s)] : [],
  };
  const annotations = injectedAnnotations(view, plan, s, parts, probes);
  const patch = podPatch(base, view, plan, annotations, probes.ops, parts);
  return { patched: true, reason: decision.reason, patch, warnings: [...planned.warnings, ...probes.warnings] };
}

/** What the injector adds to the pod spec. */
interface InjectedParts {
  readonly volumes: JsonObject[];
  readonly sidecar: JsonObject;
  /** The iptables init container, when the pod needs redirect rules. */
  readonly init: JsonObject[];
}

/** Why a pod that is valid gets no sidecar (not opted in, already injected, host network); undefined to inject. */
function skipReason(view: PodView, decision: { readonly inject: boolean; readonly reason: string }): { reason: string; warnings: string[] } | undefined {
  if (!decision.inject) return { reason: decision.reason, warnings: [] };
  if (alreadyInjected(view)) return { reason: `already injected (${ANNOTATIONS.status} or container ${INJECTED_NAMES.sidecar} present)`, warnings: [] };
  if (view.hostNetwork) {
    // Redirect rules would be installed in the node's network namespace and
    // capture every process on the node, and the sidecar's fixed ports would
    // clash between host-network pods on one node.
    const reason = 'not injected: hostNetwork pods share the node network namespace, where the redirect rules and fixed sidecar ports cannot be confined to the pod';
    return { reason, warnings: [reason] };
  }
  return undefined;
}

/** The annotations the injector sets: its status, the original probes, and Prometheus scraping unless the pod has its own. */
function injectedAnnotations(view: PodView, plan: PodPlan, s: InjectionSettings, parts: InjectedParts, probes: ProbeRewrite): Record<string, string> {
  const status = {
    version: STATUS_VERSION,
    native: plan.native,
    initContainers: [...names(parts.init), ...(plan.native ? [INJECTED_NAMES.sidecar] : [])],
    containers: plan.native ? [] : [INJECTED_NAMES.sidecar],
    volumes: names(parts.volumes),
  };
  const annotations: Record<string, string> = { [ANNOTATIONS.status]: JSON.stringify(status) };
  if (Object.keys(probes.originals).length > 0) annotations[ANNOTATIONS.appProbes] = JSON.stringify(probes.originals);
  if (!Object.values(PROMETHEUS_ANNOTATIONS).some((k) => view.annotations?.[k] !== undefined)) {
    annotations[PROMETHEUS_ANNOTATIONS.scrape] = 'true';
    annotations[PROMETHEUS_ANNOTATIONS.port] = String(s.adminPort);
    annotations[PROMETHEUS_ANNOTATIONS.path] = '/metrics';
  }
  return annotations;
}

function podPatch(base: string, view: PodView, plan: PodPlan, annotations: Record<string, string>, probeOps: readonly JsonPatchOp[], parts: InjectedParts): JsonPatchOp[] {
  const spec = `${base}/spec`;
  return [
    ...annotationOps(base, view, annotations),
    // Probe ops use current container indexes: they go before any insertion.
    ...probeOps,
    ...appendOps(`${spec}/volumes`, view.volumes, parts.volumes),
    // Order matters: the iptables init container runs first, then the native
    // sidecar, then the pod's own init containers (which may need the mesh).
    ...prependOps(`${spec}/initContainers`, view.initContainers, plan.native ? [...parts.init, parts.sidecar] : parts.init),
    // Fallback: first in `containers`, so the kubelet starts it (and runs its
    // postStart wait) before the app containers.
    ...(plan.native ? [] : [{ op: 'add' as const, path: `${spec}/containers/0`, value: parts.sidecar }]),
  ];
}

/**
 * Decides and computes the sidecar injection for a Pod. Pure: the pod is
 * not modified; apply `patch` (RFC 6902) to get the injected pod.
 * Idempotent: an injected pod yields `patched: false` and no ops.
 */
export function injectPod(pod: unknown, opts: InjectOptions): InjectResult {
  return injectPodTemplate(pod, '', '', opts);
}
