/** The shared flag parser: node:util parseArgs errors in the CLI's words, help added, repeats refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../sidecar/cli/io.ts';
import { choiceFlag, parseFlags } from '../../../sidecar/cli/parse-flags.ts';
import { durationFlag } from '../../../sidecar/cli/duration-flag.ts';

const OPTIONS = { socket: { type: 'string' }, json: { type: 'boolean' }, bundle: { type: 'string', multiple: true } } as const;

test('parseFlags: values, positionals and the added -h/--help', () => {
  const r = parseFlags(['--socket', 'unix:///a', '--json', '--bundle', 'a', '--bundle', 'b', 'pos'], OPTIONS, true);
  assert.equal(r.values.socket, 'unix:///a');
  assert.equal(r.values.json, true);
  assert.deepEqual(r.values.bundle, ['a', 'b']);
  assert.deepEqual(r.positionals, ['pos']);
  assert.equal(parseFlags(['-h'], OPTIONS).values.help, true);
  assert.equal(parseFlags(['--help'], OPTIONS).values.help, true);
});

test('parseFlags: each usage problem is a UsageError in the CLI words, without node:util advice', () => {
  const rows: Array<[string[], boolean, RegExp]> = [
    [['--bogus'], false, /^unknown option --bogus$/],
    [['--bogus'], true, /^unknown option --bogus$/],
    [['-x'], false, /^unknown option -x$/],
    [['--socket'], false, /^--socket needs a value/],
    [['--socket', '--json'], false, /^--socket needs a value \(write --socket=VALUE/],
    [['--json=yes'], false, /^--json takes no value$/],
    [['extra'], false, /^unexpected argument "extra"$/],
    [['--socket', 'a', '--socket', 'b'], false, /^--socket is given more than once$/],
    [['--json', '--json'], false, /^--json is given more than once$/],
  ];
  for (const [args, positionals, message] of rows) {
    assert.throws(
      () => parseFlags(args, OPTIONS, positionals),
      (err: unknown) => err instanceof UsageError && message.test(err.message) && !/To specify|place it at the end/.test(err.message),
      args.join(' '),
    );
  }
});

test('choiceFlag: the fallback when absent, the value when listed, a UsageError naming the choices otherwise', () => {
  assert.equal(choiceFlag('--output', undefined, ['text', 'json'], 'text'), 'text');
  assert.equal(choiceFlag('--output', 'json', ['text', 'json'], 'text'), 'json');
  assert.throws(() => choiceFlag('--output', 'xml', ['text', 'json'], 'text'), (e: unknown) => e instanceof UsageError && e.message === '--output: "xml" must be text or json');
  assert.throws(() => choiceFlag('--level', 'x', ['a', 'b', 'c'], 'a'), /must be a, b or c$/);
});

test('durationFlag: milliseconds, or a UsageError naming the flag', () => {
  assert.equal(durationFlag('--ttl', '30s'), 30_000);
  assert.throws(() => durationFlag('--ttl', '0s'), (e: unknown) => e instanceof UsageError && e.message.startsWith('--ttl: '));
  assert.throws(() => durationFlag('--ttl', 'soon'), (e: unknown) => e instanceof UsageError && e.message.startsWith('--ttl: '));
});
