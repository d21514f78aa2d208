import { LineCounter, parseDocument } from 'yaml';
import type { Config } from './config.ts';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import type { Env } from './config-reader.ts';
import { parseConfig } from './parse-config.ts';
import { describeError } from '../core/index.ts';

/** YAML aliases beyond this count are refused (billion-laughs protection). */
const MAX_ALIASES = 50;

/**
 * Parses YAML text and validates it with {@link parseConfig}. Syntax errors
 * (including duplicate keys, which YAML would otherwise resolve silently to
 * the last one) throw ConfigError 'config.syntax' with line and column.
 */
export function loadConfigText(text: string, env: Env, source: string): Config {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `yes`/`on` stay strings, so a mistyped boolean is
  // reported instead of being coerced.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, schema: 'core' });
  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return { path: `line ${line}, column ${col}`, message: e.message.split('\n')[0]! };
    });
    throw new ConfigError('config.syntax', source, problems);
  }
  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw new ConfigError('config.syntax', source, [{ path: '(document)', message: describeError(err) }]);
  }
  return parseConfig(input, env, source);
}
