import type { Json, JsonObject } from './json-patch.ts';

/**
 * The parts of a pod (or pod template) the injector reads, checked for
 * shape. Everything else of the object is carried through untouched.
 */
export interface PodView {
  /** False when the object has no `metadata` at all (possible in a pod template). */
  readonly hasMetadata: boolean;
  /** Undefined when `metadata.annotations` is absent (the patch must add the whole map). */
  readonly annotations: Readonly<Record<string, string>> | undefined;
  readonly containers: readonly JsonObject[];
  /** Undefined when `spec.initContainers` is absent (the patch must add the whole array). */
  readonly initContainers: readonly JsonObject[] | undefined;
  readonly volumes: readonly JsonObject[] | undefined;
  readonly hostNetwork: boolean;
  /** `spec.restartPolicy` when it is a string (Always, OnFailure, Never). */
  readonly restartPolicy: string | undefined;
  /** `spec.securityContext.runAsUser`, if set. */
  readonly podRunAsUser: number | undefined;
}

/** True for a JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objectArray(v: Json | undefined, path: string, problems: string[]): JsonObject[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(isJsonObject)) {
    problems.push(`${path} must be a list of objects`);
    return undefined;
  }
  return v;
}

function stringMap(v: Json | undefined, path: string, problems: string[]): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isJsonObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    problems.push(`${path} must be a map of strings`);
    return undefined;
  }
  return v as Record<string, string>;
}

/**
 * Reads a pod-shaped object (`metadata` + `spec`). Returns the view, or the
 * list of shape problems (paths relative to `where`, e.g. "spec.template").
 */
export function readPodView(obj: unknown, where: string): { view: PodView } | { problems: string[] } {
  const at = (p: string): string => (where ? `${where}.${p}` : p);
  const problems: string[] = [];
  if (!isJsonObject(obj)) return { problems: [`${where || 'object'} must be an object`] };
  const meta = obj['metadata'];
  if (meta !== undefined && meta !== null && !isJsonObject(meta)) problems.push(`${at('metadata')} must be an object`);
  const metaObj = isJsonObject(meta) ? meta : undefined;
  const annotations = stringMap(metaObj?.['annotations'], at('metadata.annotations'), problems);
  const spec = obj['spec'];
  if (!isJsonObject(spec)) return { problems: [...problems, `${at('spec')} must be an object`] };
  const containers = objectArray(spec['containers'], at('spec.containers'), problems);
  if (containers === undefined || containers.length === 0) {
    if (!problems.some((p) => p.startsWith(at('spec.containers')))) problems.push(`${at('spec.containers')} must be a non-empty list`);
  }
  for (const [i, c] of (containers ?? []).entries()) {
    if (typeof c['name'] !== 'string' || c['name'] === '') problems.push(`${at(`spec.containers[${i}].name`)} must be a non-empty string`);
  }
  const initContainers = objectArray(spec['initContainers'], at('spec.initContainers'), problems);
  const volumes = objectArray(spec['volumes'], at('spec.volumes'), problems);
  const hostNetwork = spec['hostNetwork'];
  if (hostNetwork !== undefined && hostNetwork !== null && typeof hostNetwork !== 'boolean') problems.push(`${at('spec.hostNetwork')} must be a boolean`);
  const sc = spec['securityContext'];
  const runAsUser = isJsonObject(sc) && typeof sc['runAsUser'] === 'number' ? sc['runAsUser'] : undefined;
  if (problems.length > 0) return { problems };
  return {
    view: {
      hasMetadata: metaObj !== undefined,
      annotations,
      containers: containers!,
      initContainers,
      volumes,
      hostNetwork: hostNetwork === true,
      restartPolicy: typeof spec['restartPolicy'] === 'string' ? spec['restartPolicy'] : undefined,
      podRunAsUser: runAsUser,
    },
  };
}

/** The declared TCP container ports of a container (protocol absent means TCP). */
export function tcpContainerPorts(container: JsonObject): { readonly name?: string; readonly port: number }[] {
  const ports = container['ports'];
  if (!Array.isArray(ports)) return [];
  const out: { name?: string; port: number }[] = [];
  for (const p of ports) {
    if (!isJsonObject(p) || typeof p['containerPort'] !== 'number') continue;
    if (p['protocol'] !== undefined && p['protocol'] !== 'TCP') continue;
    out.push(typeof p['name'] === 'string' ? { name: p['name'], port: p['containerPort'] } : { port: p['containerPort'] });
  }
  return out;
}
