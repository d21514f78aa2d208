/**
 * Tracing is off by default and must cost a sidecar nothing then: the
 * OpenTelemetry packages may be reached from the tracing folder's public
 * surface only through loadTracing's dynamic import. This walks the static
 * (runtime) imports from sidecar/tracing/index.ts and from sidecar/app.ts's
 * view of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const folder = resolve(import.meta.dirname, '..', '..', '..', 'sidecar', 'tracing');
/** Static imports that load a module at run time (`import type` is erased). */
const staticImport = /^\s*(?:import|export)\s+(?!type[\s{*])[^'"]*?from\s+['"]([^'"]+)['"]/gm;

function runtimeClosure(entry: string): { files: string[]; packages: string[] } {
  const files: string[] = [];
  const packages: string[] = [];
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    for (const m of readFileSync(file, 'utf8').matchAll(staticImport)) {
      const spec = m[1]!;
      if (spec.startsWith('./')) todo.push(resolve(dirname(file), spec));
      else if (!spec.startsWith('.')) packages.push(spec);
    }
  }
  return { files, packages };
}

test('the tracing folder loads no OpenTelemetry package until loadTracing runs', () => {
  const { files, packages } = runtimeClosure(resolve(folder, 'index.ts'));
  assert.ok(files.some((f) => f.endsWith('load-tracing.ts')), 'the walk reached load-tracing.ts');
  assert.deepEqual(packages.filter((p) => p.startsWith('@opentelemetry/')), []);
});

test('the pipeline itself does import them (the walk above would notice a static edge to it)', () => {
  const { packages } = runtimeClosure(resolve(folder, 'otel-pipeline.ts'));
  assert.ok(packages.includes('@opentelemetry/sdk-trace'));
});
