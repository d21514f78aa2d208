/** An in-memory CliIo for running commands in-process: collects stdout and stderr as text. */
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../../sidecar/cli/io.ts';

/** A CliIo whose output is read back with out() and err(). */
export type FakeIo = CliIo & { out(): string; err(): string };

/** Builds a {@link FakeIo} with the given environment. */
export function fakeIo(env: Record<string, string | undefined> = {}): FakeIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { stdout, stderr, env, stopSignal: new AbortController().signal, out: () => out, err: () => err };
}
