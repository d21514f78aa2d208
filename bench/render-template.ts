/**
 * Fills `${name}` placeholders of a file under bench/templates. A
 * placeholder without a value is an error, so a renamed variable cannot
 * silently produce a broken config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const templatesDir = join(import.meta.dirname, 'templates');

/** Returns the template `name` with every `${key}` replaced by `values[key]`. */
export function renderTemplate(name: string, values: Readonly<Record<string, string | number>>): string {
  const text = readFileSync(join(templatesDir, name), 'utf8');
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`bench: template ${name} needs a value for \${${key}}`);
    return String(v);
  });
}
