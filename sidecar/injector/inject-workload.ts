import { injectPodTemplate, type InjectOptions, type InjectResult } from './inject-pod.ts';
import { InjectorError } from './injector-error.ts';
import { applyJsonPatch } from './json-patch.ts';
import { isJsonObject } from './pod-view.ts';

/**
 * Where each workload kind keeps its pod template, as JSON Pointer tokens.
 * Keyed by "apiVersion/kind" so an unknown version of a known kind is not
 * guessed at.
 */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  'v1/Pod': [],
  'apps/v1/Deployment': ['spec', 'template'],
  'apps/v1/StatefulSet': ['spec', 'template'],
  'apps/v1/DaemonSet': ['spec', 'template'],
  'apps/v1/ReplicaSet': ['spec', 'template'],
  'v1/ReplicationController': ['spec', 'template'],
  'batch/v1/Job': ['spec', 'template'],
  'batch/v1/CronJob': ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The pod-template path of an object's kind, or undefined when it has no pod template we know. */
export function podTemplatePath(obj: unknown): readonly string[] | undefined {
  if (!isJsonObject(obj) || typeof obj['apiVersion'] !== 'string' || typeof obj['kind'] !== 'string') return undefined;
  return POD_TEMPLATE_PATHS[`${obj['apiVersion']}/${obj['kind']}`];
}

/** {@link InjectResult} plus the injected object (the input itself when nothing changed). */
export interface WorkloadInjectResult extends InjectResult {
  /** The workload's `apiVersion/kind`. */
  readonly kind: string;
  readonly object: unknown;
}

/**
 * Injects the pod template of a Pod, Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, ReplicationController, Job or CronJob. The patch is relative
 * to the workload object. Throws 'injector.object_invalid' for any other
 * kind (callers that pass other documents through check
 * {@link podTemplatePath} first).
 */
export function injectWorkload(obj: unknown, opts: InjectOptions): WorkloadInjectResult {
  const path = podTemplatePath(obj);
  if (path === undefined) {
    const o = isJsonObject(obj) ? `${String(obj['apiVersion'])}/${String(obj['kind'])}` : typeof obj;
    throw new InjectorError('injector.object_invalid', [`${o} is not a workload with a pod template (${Object.keys(POD_TEMPLATE_PATHS).join(', ')})`]);
  }
  let template: unknown = obj;
  for (const [i, token] of path.entries()) {
    if (!isJsonObject(template)) throw new InjectorError('injector.object_invalid', [`${path.slice(0, i).join('.')} must be an object`]);
    template = template[token];
  }
  const base = path.map((t) => `/${t}`).join('');
  const where = path.join('.');
  const o = obj as { apiVersion: string; kind: string };
  const result = injectPodTemplate(template, base, where, opts);
  return { ...result, kind: `${o.apiVersion}/${o.kind}`, object: result.patched ? applyJsonPatch(obj, result.patch) : obj };
}
