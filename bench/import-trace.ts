/**
 * Which modules a process loads, and who loads each npm package first: a
 * preload for finding the imports that weigh on start-up and idle memory
 * (docs/benchmarks.md, "Memory and start-up budget").
 *
 *   IMPORT_TRACE_OUT=/tmp/trace.json node --import ./bench/import-trace.ts dist/bin/main.js run ...
 *
 * On exit it writes { packages: { name: { modules, firstImporter } }, projectModules }
 * to IMPORT_TRACE_OUT. A synchronous resolve hook (module.registerHooks) sees
 * both `import` and `require`, so CommonJS dependencies are counted too.
 */
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';

const out = process.env['IMPORT_TRACE_OUT'];
const packages = new Map<string, { modules: Set<string>; firstImporter: string }>();
const project = new Set<string>();
const cwd = process.cwd();

/** The npm package a file URL belongs to ('@scope/name' or 'name'), or undefined. */
function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const rest = url.slice(at + '/node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

function short(url: string | undefined): string {
  if (url === undefined) return '(entry)';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  return path.startsWith(cwd) ? path.slice(cwd.length + 1) : path;
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const r = nextResolve(specifier, context);
    if (r.url.startsWith('file:')) {
      const pkg = packageOf(r.url);
      if (pkg === undefined) {
        project.add(short(r.url));
      } else {
        let entry = packages.get(pkg);
        if (entry === undefined) {
          entry = { modules: new Set(), firstImporter: short(context.parentURL) };
          packages.set(pkg, entry);
        }
        entry.modules.add(r.url);
      }
    }
    return r;
  },
});

if (out !== undefined) {
  process.on('exit', () => {
    const pk: Record<string, { modules: number; firstImporter: string }> = {};
    for (const [name, e] of [...packages].sort((a, b) => a[0].localeCompare(b[0]))) pk[name] = { modules: e.modules.size, firstImporter: e.firstImporter };
    writeFileSync(out, JSON.stringify({ packages: pk, projectModules: [...project].sort() }, null, 1) + '\n');
  });
}
