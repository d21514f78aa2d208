/**
 * The cleanup of a test file whose fixtures live for all its tests: the
 * functions registered run newest first in the file's `after` hook, also
 * when a test failed.
 */
import { after } from 'node:test';
import type { Cleanup } from './dev-agent-harness.ts';

/** A {@link Cleanup} for the whole file; call it once, at the top level of a test file. */
export function fileCleanup(): Cleanup {
  const hooks: (() => unknown)[] = [];
  after(async () => {
    for (const fn of hooks.reverse()) await fn();
  });
  return { after: (fn) => void hooks.push(fn) };
}
