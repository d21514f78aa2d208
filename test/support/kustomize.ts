/** Renders a kustomization with `kubectl kustomize` (a child process: integration tests only) and parses the result. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './k8s-schemas.ts';

const run = promisify(execFile);

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..');

/** Renders k8s/`dir` and returns its objects in order. */
export async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(ROOT, 'k8s', dir)], { maxBuffer: 32 * 1024 * 1024 });
  return (parseAllDocuments(stdout) as unknown as { toJS(): unknown; errors: unknown[] }[])
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`kubectl kustomize ${dir}: unparseable output`);
      return d.toJS() as K8sObject;
    })
    .filter((o) => o !== null);
}
