/**
 * The check behind the config tests' rejection tables: parseConfig must
 * throw one ConfigError (code `config.invalid`) listing exactly the
 * expected problem paths, in order, each message matching its pattern.
 */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../sidecar/config/index.ts';

/** Environment variables as parseConfig reads them. */
export type Env = Record<string, string | undefined>;

/** One expected problem: its path and a pattern its message must match. */
export type ExpectedProblem = readonly [path: string, message: RegExp];

/** The problems parseConfig reports for `input` and `env`; fails the test when it does not throw a ConfigError. */
export function problemsOf(input: unknown, env: Env = {}): { path: string; message: string }[] {
  try {
    parseConfig(input, env, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'config.invalid');
    return [...err.problems];
  }
  assert.fail('expected parseConfig to throw');
}

/** Asserts that `input` and `env` are rejected with exactly `expected`, in order. */
export function assertProblems(input: unknown, env: Env | undefined, expected: readonly ExpectedProblem[]): void {
  const got = problemsOf(input, env);
  assert.deepEqual(
    got.map((p) => p.path),
    expected.map(([path]) => path),
    `problems: ${JSON.stringify(got)}`,
  );
  expected.forEach(([, pattern], i) => assert.match(got[i]!.message, pattern));
}
