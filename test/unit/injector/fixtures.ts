/**
 * Pods and settings shared by the injector tests. Every builder returns a
 * fresh object so a test can change it freely.
 */
import { injectionSettings, type InjectionSettings, type JsonObject } from '../../../sidecar/injector/index.ts';

export const IMAGE = 'spiffe-sidecar:0.1.0';

export function settings(over: Partial<InjectionSettings> = {}): InjectionSettings {
  return injectionSettings({ image: IMAGE, ...over });
}

/** A minimal valid pod: one app container on port 8080, opted in unless `annotations` says otherwise. */
export function pod(
  opts: { annotations?: Record<string, string> | null; containers?: JsonObject[]; spec?: JsonObject } = {},
): JsonObject {
  const annotations = opts.annotations === undefined ? { 'spiffe-sidecar.io/inject': 'true' } : opts.annotations;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app', namespace: 'demo', ...(annotations === null ? {} : { annotations }) },
    spec: {
      containers: opts.containers ?? [{ name: 'app', image: 'example/app:1.0', ports: [{ containerPort: 8080 }] }],
      ...opts.spec,
    },
  };
}

/** Looks up a container by name in a (patched) pod's containers or initContainers. */
export function container(p: JsonObject, name: string): JsonObject | undefined {
  const spec = p['spec'] as JsonObject;
  const all = [...((spec['initContainers'] as JsonObject[] | undefined) ?? []), ...(spec['containers'] as JsonObject[])];
  return all.find((c) => c['name'] === name);
}

/** The value of env var `name` of container `c`. */
export function env(c: JsonObject | undefined, name: string): string | undefined {
  const list = (c?.['env'] as JsonObject[] | undefined) ?? [];
  return list.find((e) => e['name'] === name)?.['value'] as string | undefined;
}
