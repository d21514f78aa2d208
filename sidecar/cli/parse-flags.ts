import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './io.ts';

/** The `-h, --help` flag every command takes. */
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

type WithHelp<O extends ParseArgsOptionsConfig> = O & typeof HELP_OPTION;

/** The option named in one of node:util's parseArgs messages (`Unknown option '--x'`). */
function quotedOption(message: string): string {
  const m = /'(-[^' ]*)/.exec(message);
  return m?.[1] ?? '';
}

/** Rewrites node:util's parseArgs errors into this CLI's wording (no library advice text). */
function usageMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  switch (e?.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quotedOption(message)}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(message)
        ? `${quotedOption(message)} takes no value`
        : `${quotedOption(message)} needs a value (write ${quotedOption(message)}=VALUE for a value starting with "-")`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']*)'/.exec(message)?.[1] ?? '';
      return `unexpected argument ${JSON.stringify(arg)}`;
    }
    default:
      return message;
  }
}

/**
 * Parses a command's arguments strictly (node:util parseArgs) with `-h,
 * --help` added; every problem becomes a {@link UsageError} in this CLI's
 * words. A single-valued flag given twice is an error rather than "last one
 * wins", so a wrapper script cannot silently override an operator's flag.
 */
export function parseFlags<const O extends ParseArgsOptionsConfig>(argv: readonly string[], options: O, allowPositionals = false) {
  const all = { ...options, ...HELP_OPTION } as WithHelp<O>;
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: all, strict: true, allowPositionals, tokens: true });
  } catch (err) {
    throw new UsageError(usageMessage(err));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || all[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** Checks a flag whose value must be one of `choices`; returns `fallback` when it is absent. */
export function choiceFlag<const C extends string>(flag: string, value: string | undefined, choices: readonly C[], fallback: C): C {
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as C;
  throw new UsageError(`${flag}: ${JSON.stringify(value)} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`);
}
