/** The dispatcher: help, unknown commands, and one wording and exit status per kind of error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarError } from '../../../sidecar/core/index.ts';
import { COMMANDS, dispatch, usage, type CommandEntry } from '../../../sidecar/cli/dispatch.ts';
import { UsageError, type Command } from '../../../sidecar/cli/io.ts';
import { fakeIo } from './fake-io.ts';

function entry(command: Command): CommandEntry {
  return { summary: 'test', load: async () => command };
}

const fixtures: Record<string, CommandEntry> = {
  ok: entry(async (argv, io) => {
    io.stdout.write(`ok ${argv.join(' ')}\n`);
    return 0;
  }),
  usage: entry(async () => {
    throw new UsageError('--frob: not a thing');
  }),
  fails: entry(async () => {
    throw new SidecarError('workload.transient', 'workload: agent down');
  }),
  bug: entry(async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'getTime')");
  }),
};

test('dispatch: one row per way an invocation ends', async () => {
  const rows: Array<{ args: string[]; code: number; out?: RegExp; err?: RegExp; why: string }> = [
    { args: ['ok', 'a', 'b'], code: 0, out: /^ok a b\n$/, why: 'arguments after the command reach it' },
    { args: ['--help'], code: 0, out: /^usage: spiffe-sidecar <command>/, why: 'help on stdout' },
    { args: ['-h'], code: 0, out: /^usage: /, why: 'short help' },
    { args: ['help'], code: 0, out: /^usage: /, why: 'help command' },
    { args: ['help', 'ok'], code: 0, out: /^ok --help\n$/, why: 'help CMD runs CMD --help' },
    { args: [], code: 2, err: /^usage: spiffe-sidecar <command>/, why: 'no command is bad usage, on stderr' },
    { args: ['frob'], code: 2, err: /^spiffe-sidecar: unknown command "frob"\nrun 'spiffe-sidecar --help'/, why: 'unknown command' },
    { args: ['toString'], code: 2, err: /unknown command "toString"/, why: 'inherited object keys are not commands' },
    { args: ['usage'], code: 2, err: /^spiffe-sidecar usage: --frob: not a thing\nrun 'spiffe-sidecar usage --help' for its options\n$/, why: 'usage error' },
    { args: ['fails'], code: 1, err: /^spiffe-sidecar fails: workload: agent down \[workload\.transient\]\n$/, why: 'anticipated failure, one line' },
    { args: ['bug'], code: 70, err: /^spiffe-sidecar bug: internal error: Cannot read properties[^\n]*\nTypeError: /, why: 'a bug, with its stack' },
  ];
  for (const r of rows) {
    const io = fakeIo();
    assert.equal(await dispatch(r.args, io, fixtures), r.code, r.why);
    if (r.out) assert.match(io.out(), r.out, r.why);
    if (r.err) assert.match(io.err(), r.err, r.why);
    if (!r.out) assert.equal(io.out(), '', `${r.why}: nothing on stdout`);
  }
});

test('the top-level help lists every command and documents the exit statuses', () => {
  const text = usage();
  for (const name of Object.keys(COMMANDS)) assert.match(text, new RegExp(`^  ${name} `, 'm'), name);
  for (const code of ['0', '1', '2', '70']) assert.match(text, new RegExp(`^  ${code} +\\S`, 'm'), `exit ${code}`);
});

test('--version runs the version command', async () => {
  const io = fakeIo();
  assert.equal(await dispatch(['--version'], io), 0, io.err());
  assert.match(io.out(), /^spiffe-sidecar \d+\.\d+\.\d+\n/);
});
