/**
 * Validation of Kubernetes objects without a cluster, for the k8s tests:
 *
 * - {@link validateWithModel}: kubernetes-models' JSON-schema validators
 *   (types, formats, required fields) for built-in kinds;
 * - {@link strictFieldCheck}: unknown fields anywhere in the object, which
 *   those validators let through (the API schemas allow extra properties)
 *   but `kubectl apply` refuses with server-side strict field validation.
 *   Done by type-checking each object as an object literal against its
 *   kubernetes-models interface with the TypeScript compiler: excess
 *   property checks cover every nesting level;
 * - {@link validateAgainstCrd}: a custom resource against the structural
 *   schema of the CRD we ship (types, required, unknown fields).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** A parsed manifest object. */
export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string; [key: string]: unknown } };

/** "apps/v1/Deployment demo/web" for messages. */
export function describeObject(o: K8sObject): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.apiVersion}/${o.kind} ${ns}${o.metadata?.name ?? '?'}`;
}

/** The kubernetes-models module of a built-in kind ("kubernetes-models/apps/v1/Deployment"). */
export function modelModule(o: K8sObject): string {
  return `kubernetes-models/${o.apiVersion}/${o.kind}`;
}

/** True when kubernetes-models has a model for the object's apiVersion and kind. */
export function hasModel(o: K8sObject): boolean {
  try {
    return readFileSync(join(import.meta.dirname, '..', '..', 'node_modules', modelModule(o) + '.d.ts')).length > 0;
  } catch {
    return false;
  }
}

/** Runs the model's schema validation; resolves to the error message, or undefined when valid. */
export async function validateWithModel(o: K8sObject): Promise<string | undefined> {
  const mod = (await import(modelModule(o))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) return `no model ${o.kind} in ${modelModule(o)}`;
  try {
    new Model(o).validate();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Every problem of `objects` (builtin kinds): each one's schema validation
 * ({@link validateWithModel}, naming the object) and then the unknown-field
 * check ({@link strictFieldCheck}); empty when all pass.
 */
export async function builtinProblems(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const err = await validateWithModel(o);
    if (err) problems.push(`${describeObject(o)}: ${err}`);
  }
  problems.push(...strictFieldCheck(objects));
  return problems;
}

/**
 * Type-checks every object against its kubernetes-models interface.
 * Returns one message per problem, naming the object; empty when all pass.
 */
export function strictFieldCheck(objects: readonly K8sObject[]): string[] {
  // A virtual module next to this file, so node_modules resolves as for tests.
  const file = join(import.meta.dirname, '__strict_field_check__.ts');
  const lines: string[] = [];
  const owner: number[] = [];
  objects.forEach((o, i) => {
    lines.push(`import type { I${o.kind} as T${i} } from '${modelModule(o)}';`);
    owner.push(i);
  });
  objects.forEach((o, i) => {
    const text = `export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`;
    for (const l of text.split('\n')) {
      lines.push(l);
      owner.push(i);
    }
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file)
    .map((d) => {
      const line = d.start !== undefined ? d.file!.getLineAndCharacterOfPosition(d.start).line : 0;
      const o = objects[owner[line] ?? 0]!;
      return `${describeObject(o)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

function checkSchema(value: unknown, schema: Schema, path: string, problems: string[]): void {
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  const at = path || '(root)';
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${at}: must be an object`);
        return;
      }
      const v = value as Record<string, unknown>;
      for (const r of schema.required ?? []) if (!(r in v)) problems.push(`${at}: required field ${r} is missing`);
      // An object schema with neither properties nor additionalProperties
      // (metadata) accepts anything, as the API server does for metadata.
      if (!schema.properties && schema.additionalProperties === undefined) return;
      for (const [k, child] of Object.entries(v)) {
        const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (!sub) problems.push(`${path}.${k}: unknown field`);
        else checkSchema(child, sub, `${path}.${k}`, problems);
      }
      return;
    }
    case 'array':
      if (!Array.isArray(value)) problems.push(`${at}: must be a list`);
      else if (schema.items) value.forEach((x, i) => checkSchema(x, schema.items!, `${path}[${i}]`, problems));
      return;
    case 'string':
      if (typeof value !== 'string') problems.push(`${at}: must be a string`);
      return;
    case 'integer':
      if (!Number.isInteger(value)) problems.push(`${at}: must be an integer`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${at}: must be a number`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at}: must be a boolean`);
      return;
    default:
      problems.push(`${at}: schema without a type (not structural)`);
  }
}

/** Checks a custom resource against the served version's openAPIV3Schema of `crd`. */
export function validateAgainstCrd(o: K8sObject, crd: K8sObject): string[] {
  const spec = crd['spec'] as { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema: { openAPIV3Schema: Schema } }[] };
  const [group, version] = o.apiVersion.split('/');
  if (group !== spec.group || o.kind !== spec.names.kind) return [`${describeObject(o)}: not a resource of ${crd.metadata?.name}`];
  const v = spec.versions.find((x) => x.name === version && x.served);
  if (!v) return [`${describeObject(o)}: version ${version} is not served`];
  const problems: string[] = [];
  checkSchema(o, v.schema.openAPIV3Schema, '', problems);
  return problems.map((p) => `${describeObject(o)}: ${p}`);
}
