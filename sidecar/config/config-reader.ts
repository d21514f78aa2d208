import { describeError } from '../core/index.ts';
import type { ConfigProblem } from './config-error.ts';
import { didYouMean } from './did-you-mean.ts';
import { quoted, typeName, type Parsed } from './parsed.ts';

/** A YAML mapping after parsing. */
export type Mapping = Readonly<Record<string, unknown>>;
/** The environment as the CLI passes it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Joins a parent path and a key: `inbound` + `listen` → `inbound.listen`. */
export function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * Walks the parsed document, collecting every problem and warning instead of
 * stopping at the first, so parseConfig can report them all at once. Reads
 * return a placeholder after a problem; the caller throws before any
 * placeholder can escape.
 */
export class ConfigReader {
  readonly #problems: ConfigProblem[] = [];
  readonly #warnings: string[] = [];
  readonly #env: Env;

  constructor(env: Env) {
    this.#env = env;
  }

  /** Problems recorded so far. */
  get problems(): readonly ConfigProblem[] {
    return this.#problems;
  }

  /** Warnings recorded so far. */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** Records a problem at `path`. */
  problem(path: string, message: string): void {
    this.#problems.push({ path, message });
  }

  /** Records a non-fatal finding. */
  warn(message: string): void {
    this.#warnings.push(message);
  }

  /**
   * Checks that `value` is a mapping holding only `keys` and returns it;
   * records a problem per unknown key (a typo must never silently fall back
   * to a default, which could widen access) and returns undefined when
   * `value` is not a mapping at all.
   */
  mapping(value: unknown, path: string, keys: readonly string[]): Mapping | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, `must be a mapping, got ${typeName(value)}`);
      return undefined;
    }
    const m = value as Mapping;
    for (const key of Object.keys(m)) {
      if (keys.includes(key)) continue;
      const hint = didYouMean(key, keys);
      this.problem(childPath(path, key), hint === undefined ? 'unknown key' : `unknown key (did you mean "${hint}"?)`);
    }
    return m;
  }

  /** Reads an optional mapping-valued key; undefined when absent or invalid. */
  section(parent: Mapping | undefined, key: string, path: string, keys: readonly string[]): Mapping | undefined {
    const raw = this.#raw(parent, key, path);
    return raw === undefined ? undefined : this.mapping(raw, childPath(path, key), keys);
  }

  /** True when `parent` sets `key` (to anything, even an invalid value). */
  has(parent: Mapping | undefined, key: string): boolean {
    return parent !== undefined && Object.hasOwn(parent, key) && parent[key] !== undefined;
  }

  /**
   * Reads `key` with `parse`: `fallback` when absent; after recording a
   * problem, `invalid` (a placeholder that later cross-checks skip, so one
   * mistake is not reported twice).
   */
  read<T>(
    parent: Mapping | undefined,
    key: string,
    path: string,
    parse: (raw: unknown) => Parsed<T>,
    fallback: T,
    invalid: T = fallback,
  ): T {
    const raw = this.#raw(parent, key, path);
    if (raw === undefined) return Object.hasOwn(parent ?? {}, key) ? invalid : fallback;
    const r = parse(raw);
    if (r.ok) return r.value;
    this.problem(childPath(path, key), r.message);
    return invalid;
  }

  /** Reads an optional list; undefined when absent, [] after recording a problem. */
  list(parent: Mapping | undefined, key: string, path: string): readonly unknown[] | undefined {
    const raw = this.#raw(parent, key, path);
    if (raw === undefined) return undefined;
    if (Array.isArray(raw)) return raw;
    this.problem(childPath(path, key), `must be a list, got ${typeName(raw)}`);
    return [];
  }

  /** The value of env var `name`; an empty string counts as unset (Kubernetes renders unset values as ''). */
  env(name: string): string | undefined {
    const v = this.#env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  /**
   * Reads env var `name` as a JSON array that replaces a list of the file;
   * undefined when unset, [] after recording a problem. `items` names the
   * entries in the message ("probes").
   */
  envList(name: string, items: string): readonly unknown[] | undefined {
    const raw = this.env(name);
    if (raw === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      this.problem(`env ${name}`, `is not valid JSON: ${quoted(describeError(err))}`);
      return [];
    }
    if (Array.isArray(parsed)) return parsed;
    this.problem(`env ${name}`, `must be a JSON array of ${items}, got ${typeName(parsed)}`);
    return [];
  }

  /** Names of every set variable, for typo checks. */
  envNames(): string[] {
    return Object.keys(this.#env).filter((k) => this.env(k) !== undefined);
  }

  /**
   * Returns env var `name` parsed with `parse` when set, else `current`; a
   * bad value is a problem at `env NAME` and yields `invalid`.
   */
  override<T>(current: T, name: string, parse: (raw: unknown) => Parsed<T>, invalid: T = current): T {
    const raw = this.env(name);
    if (raw === undefined) return current;
    const r = parse(raw);
    if (r.ok) return r.value;
    this.problem(`env ${name}`, r.message);
    return invalid;
  }

  #raw(parent: Mapping | undefined, key: string, path: string): unknown {
    if (parent === undefined || !Object.hasOwn(parent, key)) return undefined;
    const raw = parent[key];
    // `key:` with nothing after it parses as null. Treating it as "use the
    // default" would hide a half-written setting, so it is a problem.
    if (raw === null) {
      this.problem(childPath(path, key), 'has no value (remove the key to use the default)');
      return undefined;
    }
    return raw;
  }
}

/** The path of a list element: `tcp` + 2 → `tcp[2]`. */
export function itemPath(path: string, index: number): string {
  return `${path}[${index}]`;
}
