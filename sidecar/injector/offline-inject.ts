import { parseAllDocuments, stringify, type Document } from 'yaml';
import { injectWorkload, podTemplatePath } from './inject-workload.ts';
import type { InjectOptions } from './inject-pod.ts';
import { InjectorError } from './injector-error.ts';
import { isJsonObject } from './pod-view.ts';

/** What happened to one workload of the input (for the CLI's report on stderr). */
export interface ManifestReport {
  /** "apps/v1/Deployment demo/frontend" */
  readonly object: string;
  readonly patched: boolean;
  readonly reason: string;
  readonly warnings: readonly string[];
}

function describe(obj: unknown): string {
  if (!isJsonObject(obj)) return 'object';
  const meta = isJsonObject(obj['metadata']) ? obj['metadata'] : {};
  const ns = typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : '';
  return `${String(obj['apiVersion'])}/${String(obj['kind'])} ${ns}${String(meta['name'] ?? meta['generateName'] ?? '?')}`;
}

/**
 * Offline injection, like `istioctl kube-inject`: multi-document YAML in,
 * the same documents out with every pod template injected. Documents that
 * are not workloads (Services, ConfigMaps, ...) and workloads left alone
 * keep their original text, comments included; injected ones are
 * re-serialised. A `kind: List` has its items injected. Throws
 * 'injector.yaml_invalid' for unparseable input and InjectorError for a
 * workload it refuses, naming the document.
 */
export function injectManifests(text: string, opts: InjectOptions): { readonly output: string; readonly reports: ManifestReport[] } {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) {
    // An empty stream: parseAllDocuments returns an EmptyStream.
    return { output: '', reports: [] };
  }
  const reports: ManifestReport[] = [];
  const out: string[] = [];
  const parsed = docs as Document.Parsed[];
  // Each document's original text: from its start ('---' included) to the
  // next document's start; the first one also keeps any leading comments.
  const source = (n: number): string => text.slice(n === 0 ? 0 : parsed[n]!.range[0], parsed[n + 1]?.range[0] ?? text.length);
  for (const [n, doc] of parsed.entries()) {
    if (doc.errors.length > 0) {
      throw new InjectorError('injector.yaml_invalid', doc.errors.map((e) => `document ${n + 1}: ${e.message}`));
    }
    const obj: unknown = doc.toJS({ maxAliasCount: 50 });
    if (obj === null || obj === undefined) continue;
    const inject = (o: unknown): { obj: unknown; changed: boolean } => {
      if (podTemplatePath(o) === undefined) return { obj: o, changed: false };
      let r;
      try {
        r = injectWorkload(o, opts);
      } catch (err) {
        if (err instanceof InjectorError) {
          throw new InjectorError(err.code, err.problems.map((p) => `document ${n + 1} (${describe(o)}): ${p}`), { cause: err });
        }
        throw err;
      }
      reports.push({ object: describe(o), patched: r.patched, reason: r.reason, warnings: r.warnings });
      return { obj: r.object, changed: r.patched };
    };
    let result: { obj: unknown; changed: boolean };
    if (isJsonObject(obj) && obj['kind'] === 'List' && Array.isArray(obj['items'])) {
      const items = obj['items'].map(inject);
      result = { obj: { ...obj, items: items.map((i) => i.obj) }, changed: items.some((i) => i.changed) };
    } else {
      result = inject(obj);
    }
    out.push(result.changed ? stringify(result.obj, { lineWidth: 0 }) : source(n));
  }
  // Every document starts with its own '---' (or its directives, which end
  // with one), so joining never produces an empty document in between.
  const output = out
    .map((d) => (d.endsWith('\n') ? d : `${d}\n`))
    .map((d) => (d.startsWith('---') || d.startsWith('%') ? d : `---\n${d}`))
    .join('');
  return { output, reports };
}
