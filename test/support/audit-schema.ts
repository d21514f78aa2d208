/** Validates audit lines against docs/audit-log.schema.json (ajv), for the audit tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';

const schemaPath = join(import.meta.dirname, '..', '..', 'docs', 'audit-log.schema.json');
const validate = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);

/** Throws unless `line` is one JSON object valid under the audit schema; returns it parsed. */
export function checkLine(line: string): Record<string, unknown> {
  const obj = JSON.parse(line) as Record<string, unknown>;
  if (!validate(obj)) throw new Error(`audit line does not match the schema: ${JSON.stringify(validate.errors)}\n${line}`);
  return obj;
}
