/**
 * Measures the public surfaces of sidecar/: every name a folder's index.ts
 * (and the library entries sidecar/index.ts, dev.ts, testing.ts) exports,
 * and which of them nothing outside that folder imports. Run it to see
 * where a surface is wider than its users:
 *
 *   ./node_modules/.bin/node test/support/export-usage.ts [--list] [--product-only] [--folders admin,core,.]
 *
 * "Outside the folder" means any other file under sidecar/, bench/, bin/,
 * examples/ or test/; with --product-only, test/ does not count as a user.
 * --folders limits the count to those folders ('.' for the library entries).
 * The library entries count as users of what they re-export, and their own
 * names count as used (package users import them). Parsing goes through the
 * TypeScript compiler's syntax tree, so `import type`, `export { a as b }`
 * and re-exports are read the way tsc reads them.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..', '..');
const src = join(root, 'sidecar');
/** The package entry points (package.json "exports"): their names are the library's surface. */
const LIBRARY_ENTRIES = ['index.ts', 'dev.ts', 'testing.ts'].map((f) => join(src, f));

function tsFiles(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The folder of a file under sidecar/ ('.' for the root files), or undefined outside sidecar/. */
function folderOf(file: string): string | undefined {
  const rel = relative(src, file);
  if (rel.startsWith('..')) return undefined;
  return rel.includes(sep) ? rel.split(sep)[0]! : '.';
}

interface ModuleFacts {
  /** Names this file exports (own declarations and re-exports). */
  readonly exported: Set<string>;
  /** Imported or re-exported names per resolved target file; '*' means every name. */
  readonly uses: Map<string, Set<string>>;
}

function hasExportModifier(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function readModule(file: string): ModuleFacts {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const exported = new Set<string>();
  const uses = new Map<string, Set<string>>();
  const use = (spec: string, names: Iterable<string>): void => {
    if (!spec.startsWith('.')) return;
    const target = resolve(dirname(file), spec);
    let set = uses.get(target);
    if (set === undefined) uses.set(target, (set = new Set()));
    for (const n of names) set.add(n);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const names: string[] = [];
      const clause = node.importClause;
      if (clause?.name) names.push('default');
      const nb = clause?.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) names.push('*');
      if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) names.push((el.propertyName ?? el.name).text);
      use(node.moduleSpecifier.text, names);
    } else if (ts.isExportDeclaration(node)) {
      const spec = node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : undefined;
      const clause = node.exportClause;
      if (clause === undefined) {
        if (spec !== undefined) use(spec, ['*']);
      } else if (ts.isNamedExports(clause)) {
        for (const el of clause.elements) exported.add(el.name.text);
        if (spec !== undefined) use(spec, clause.elements.map((el) => (el.propertyName ?? el.name).text));
      } else {
        exported.add(clause.name.text);
        if (spec !== undefined) use(spec, ['*']);
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg)) use(arg.text, ['*']);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      use(node.argument.literal.text, ['*']);
    } else if (node.parent === sf && hasExportModifier(node)) {
      if (ts.isVariableStatement(node)) {
        for (const d of node.declarationList.declarations) if (ts.isIdentifier(d.name)) exported.add(d.name.text);
      } else if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) && node.name) {
        exported.add(node.name.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { exported, uses };
}

/** One surface: a folder's index.ts or a library entry. */
export interface Surface {
  readonly file: string;
  readonly names: readonly string[];
  /** The names no file outside the folder imports. */
  readonly unused: readonly string[];
}

/** Measures every surface; `productOnly` ignores test/ as a user. */
export function measureSurfaces(productOnly: boolean): Surface[] {
  const all = [src, join(root, 'test'), join(root, 'bench'), join(root, 'bin'), join(root, 'examples')].flatMap((d) => tsFiles(d));
  const facts = new Map(all.map((f) => [f, readModule(f)] as const));
  const surfaces = [...all.filter((f) => f.endsWith(`${sep}index.ts`) && folderOf(f) !== '.' && folderOf(f) !== undefined && dirname(f) === join(src, folderOf(f)!)), ...LIBRARY_ENTRIES.filter((f) => facts.has(f))];
  const testDir = join(root, 'test') + sep;
  return surfaces.map((file) => {
    const folder = folderOf(file)!;
    const isLibrary = LIBRARY_ENTRIES.includes(file);
    const used = new Set<string>();
    for (const [user, f] of facts) {
      if (user === file) continue;
      if (productOnly && user.startsWith(testDir)) continue;
      // A folder's own files do not count as its users; the root files
      // (app.ts, the library entries) are users of every folder.
      if (!isLibrary && folderOf(user) === folder) continue;
      const names = f.uses.get(file);
      if (names) for (const n of names) used.add(n);
    }
    const names = [...facts.get(file)!.exported].sort();
    const unused = isLibrary || used.has('*') ? [] : names.filter((n) => !used.has(n));
    return { file: relative(root, file), names, unused };
  });
}

if (import.meta.main) {
  const list = process.argv.includes('--list');
  const productOnly = process.argv.includes('--product-only');
  const at = process.argv.indexOf('--folders');
  const folders = at === -1 ? undefined : new Set((process.argv[at + 1] ?? '').split(','));
  const surfaces = measureSurfaces(productOnly).filter((s) => folders === undefined || folders.has(folderOf(join(root, s.file))!));
  let total = 0;
  let unused = 0;
  for (const s of surfaces) {
    total += s.names.length;
    unused += s.unused.length;
    if (list && s.unused.length > 0) console.log(`${s.file} (${s.names.length} exported, ${s.unused.length} unused outside): ${s.unused.join(', ')}`);
  }
  console.log(`${surfaces.length} surfaces, ${total} exported names, ${unused} unused outside their folder${productOnly ? ' (tests not counted as users)' : ''}`);
}
