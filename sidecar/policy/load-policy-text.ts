import { parseDocument } from 'yaml';
import { describeError } from '../core/index.ts';
import { parsePolicy, type ParsePolicyOptions } from './parse-policy.ts';
import { PolicyError } from './policy-error.ts';
import type { Policy } from './policy.ts';

/** Aliases expanded per document at most; stops "billion laughs" documents. */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses policy text (YAML 1.2, so JSON too) and then validates it with
 * `parsePolicy`. Syntax problems, duplicate keys, multiple documents and
 * unknown tags throw a {@link PolicyError} with code 'policy.syntax' whose
 * lines read `<source>:<line>:<column>: <problem>`; a well-formed but wrong
 * document throws code 'policy.invalid'. `options` are parsePolicy's (e.g.
 * `{ context: 'tcp' }` for a policy guarding TCP tunnels).
 *
 * Why YAML 1.2 core schema: `yes`/`no`/`on` stay strings and `<<` merge keys
 * are off, so what a reader sees is what the parser gets.
 */
export function loadPolicyText(text: string, source: string, options: ParsePolicyOptions = {}): Policy {
  const doc = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    merge: false,
    uniqueKeys: true,
    strict: true,
    prettyErrors: true,
  });
  // Warnings (e.g. an unresolved tag read as a string) are treated as errors:
  // a policy that does not mean what it says must not load.
  const issues = [...doc.errors, ...doc.warnings];
  if (issues.length > 0) {
    throw new PolicyError(
      'policy.syntax',
      source,
      issues.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos === undefined ? source : `${source}:${pos.line}:${pos.col}`;
        return `${where}: ${firstLine(e.message)}`;
      }),
    );
  }
  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new PolicyError('policy.syntax', source, [`${source}: ${describeError(err)}`], { cause: err });
  }
  return parsePolicy(input, source, options);
}

/** The yaml package's message without its " at line L, column C:" suffix and code excerpt. */
function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  const at = line.lastIndexOf(' at line ');
  return (at > 0 ? line.slice(0, at) : line).replace(/:$/, '');
}
