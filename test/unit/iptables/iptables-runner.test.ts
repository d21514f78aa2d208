/**
 * applyIptables / cleanIptables with a recording runner: clean first,
 * tolerate "nothing to remove", roll back on failure, and the CLI command
 * wired to the same runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  DEFAULT_IPTABLES_OPTIONS,
  IptablesError,
  applyIptables,
  cleanIptables,
  planIptables,
  type CommandResult,
  type CommandRunner,
} from '../../../sidecar/iptables/index.ts';
import { makeIptablesCommand } from '../../../sidecar/cli/iptables.ts';
import { UsageError, type CliIo } from '../../../sidecar/cli/io.ts';

/** A fake iptables: records calls; `answer` decides each exit status. */
function recorder(answer: (args: readonly string[], n: number) => Partial<CommandResult> = () => ({})) {
  const calls: string[] = [];
  const runner: CommandRunner = async (file, args) => {
    calls.push(`${file} ${args.join(' ')}`);
    return { code: 0, stdout: '', stderr: '', ...answer(args, calls.length) };
  };
  return { calls, runner };
}

const isClean = (args: readonly string[]) => ['-D', '-F', '-X'].includes(args[2]!);

test('applyIptables: cleans first (tolerating absent chains), then runs the plan', async () => {
  const { calls, runner } = recorder((args) => (isClean(args) ? { code: 1, stderr: 'No chain/target/match by that name.' } : {}));
  const applied = await applyIptables(DEFAULT_IPTABLES_OPTIONS, { runner });
  const expected = [
    ...planIptables(DEFAULT_IPTABLES_OPTIONS, 4).map((c) => ['iptables', ...c]),
    ...planIptables(DEFAULT_IPTABLES_OPTIONS, 6).map((c) => ['ip6tables', ...c]),
  ];
  assert.deepEqual(applied, expected);
  assert.deepEqual(calls.slice(-expected.length), expected.map((c) => c.join(' ')));
  assert.equal(calls.length, 2 * 8 + expected.length, 'each clean command once per family when nothing is there');
  assert.ok(calls.slice(0, 16).some((c) => c.startsWith('ip6tables -t nat -X')), 'ip6tables cleaned before applying');
});
test('applyIptables: a re-run removes the existing jumps and chains before adding them again', async () => {
  let jumps = 1;
  const { calls, runner } = recorder((args) => (args[2] === '-D' && args[3] === 'PREROUTING' ? (jumps-- > 0 ? {} : { code: 1 }) : {}));
  await applyIptables(DEFAULT_IPTABLES_OPTIONS, { runner });
  assert.equal(calls.filter((c) => c.startsWith('iptables -t nat -D PREROUTING')).length, 2, 'deleted until it fails');
  assert.ok(calls.indexOf('iptables -t nat -X SPIFFE_SIDECAR_INBOUND') < calls.indexOf('iptables -t nat -N SPIFFE_SIDECAR_INBOUND'));
});
test('applyIptables: a failing command rolls back and names the command and stderr', async () => {
  let failed = false;
  const { calls, runner } = recorder((args) => {
    if (!failed && args.includes('--uid-owner')) {
      failed = true;
      return { code: 2, stderr: "Couldn't load match `owner'" };
    }
    return {};
  });
  await assert.rejects(
    applyIptables(DEFAULT_IPTABLES_OPTIONS, { runner }),
    (e: IptablesError) => e.code === 'iptables.command_failed' && /--uid-owner 1337/.test(e.message) && /owner/.test(e.message),
  );
  const after = calls.slice(calls.findIndex((c) => c.includes('--uid-owner')) + 1);
  assert.deepEqual(after.slice(0, 2), ['iptables -t nat -D PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND', 'iptables -t nat -D PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND']);
  assert.ok(after.includes('iptables -t nat -X SPIFFE_SIDECAR_REDIRECT'), 'rolled back');
  assert.ok(after.includes('ip6tables -t nat -X SPIFFE_SIDECAR_REDIRECT'), 'both families rolled back');
});
test('applyIptables: a failure in the IPv6 rules rolls back the IPv4 rules too', async () => {
  let applying = false;
  const { calls, runner } = recorder((args) => {
    if (args[2] === '-N') applying = true;
    return applying && args.includes('::1/128') ? { code: 2, stderr: 'ip6tables: bad argument' } : {};
  });
  await assert.rejects(applyIptables(DEFAULT_IPTABLES_OPTIONS, { runner }), (e: IptablesError) => e.code === 'iptables.command_failed' && /^iptables: ip6tables .*::1\/128 -j RETURN exited 2/.test(e.message));
  const after = calls.slice(calls.findIndex((c) => c.includes('::1/128')) + 1);
  assert.ok(after.includes('iptables -t nat -X SPIFFE_SIDECAR_OUTPUT'), 'IPv4 rolled back');
  assert.ok(after.includes('ip6tables -t nat -X SPIFFE_SIDECAR_OUTPUT'), 'IPv6 rolled back');
});
test('applyIptables: an ip6tables that cannot be started rolls back the IPv4 rules', async () => {
  const calls: string[] = [];
  const runner: CommandRunner = async (file, args) => {
    if (file === 'ip6tables' && args[2] === '-N') throw new IptablesError('iptables.not_found', 'cannot run ip6tables: ENOENT');
    calls.push(`${file} ${args.join(' ')}`);
    return { code: ['-D', '-F', '-X'].includes(args[2]!) && calls.length < 20 ? 1 : 0, stdout: '', stderr: '' };
  };
  await assert.rejects(applyIptables(DEFAULT_IPTABLES_OPTIONS, { runner }), (e: IptablesError) => e.code === 'iptables.not_found');
  assert.equal(calls.at(-1)?.startsWith('ip6tables -t nat -X'), true);
  assert.ok(calls.slice(calls.findLastIndex((c) => c.includes('-A OUTPUT'))).includes('iptables -t nat -X SPIFFE_SIDECAR_INBOUND'), 'IPv4 rolled back');
});
test('applyIptables: ipv6 false runs iptables only', async () => {
  const { calls, runner } = recorder();
  await applyIptables({ ...DEFAULT_IPTABLES_OPTIONS, ipv6: false }, { runner });
  assert.ok(calls.length > 0 && calls.every((c) => c.startsWith('iptables ')));
});
test('applyIptables: uses the given iptables binary', async () => {
  const { calls, runner } = recorder();
  await applyIptables(DEFAULT_IPTABLES_OPTIONS, { runner, iptables: '/usr/sbin/iptables-legacy', ip6tables: '/usr/sbin/ip6tables-legacy' });
  assert.ok(calls.every((c) => c.startsWith('/usr/sbin/iptables-legacy ') || c.startsWith('/usr/sbin/ip6tables-legacy ')));
  assert.ok(calls.some((c) => c.startsWith('/usr/sbin/ip6tables-legacy -t nat -A')));
});

test('cleanIptables: a lock or permission failure (exit 4) is not "nothing to remove"', async () => {
  const { runner } = recorder(() => ({ code: 4, stderr: 'Another app is currently holding the xtables lock' }));
  await assert.rejects(cleanIptables({ runner }), (e: IptablesError) => e.code === 'iptables.command_failed' && /exited 4/.test(e.message));
});
test('cleanIptables: gives up repeating a deletion after a bound', async () => {
  const { calls, runner } = recorder();
  await cleanIptables({ runner });
  assert.equal(calls.filter((c) => c.startsWith('iptables -t nat -D PREROUTING')).length, 16);
  assert.equal(calls.filter((c) => c.startsWith('ip6tables -t nat -D PREROUTING')).length, 16);
});

function io(): { io: CliIo; out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  return { io: { stdout, stderr: new PassThrough(), env: {}, stopSignal: new AbortController().signal }, out: () => text };
}

test('spiffe-sidecar iptables: plan prints the commands and runs nothing', async () => {
  const { calls, runner } = recorder();
  const t = io();
  assert.equal(await makeIptablesCommand(runner, () => true)(['plan', '--inbound-ports', '8080', '--no-outbound'], t.io), 0);
  assert.equal(calls.length, 0);
  assert.match(t.out(), /^iptables -t nat -A SPIFFE_SIDECAR_INBOUND -p tcp --dport 8080 -j REDIRECT --to-ports 15006$/m);
  assert.doesNotMatch(t.out(), /-A OUTPUT/);
});
test('spiffe-sidecar iptables: apply --dry-run runs nothing', async () => {
  const { calls, runner } = recorder();
  assert.equal(await makeIptablesCommand(runner, () => true)(['apply', '--dry-run'], io().io), 0);
  assert.equal(calls.length, 0);
});
test('spiffe-sidecar iptables: apply passes every flag through', async () => {
  const { calls, runner } = recorder((args) => (isClean(args) ? { code: 1 } : {}));
  const argv = [
    'apply', '--proxy-uid=2000', '--inbound-port=16006', '--outbound-port=16001', '--admin-port=16020',
    '--inbound-ports=8080,9090', '--exclude-inbound-ports=9090', '--exclude-outbound-ports=5432',
    '--exclude-outbound-cidrs=10.96.0.0/12,169.254.169.254,fd00:10:96::/112', '--iptables=/sbin/ipt', '--ip6tables=/sbin/ip6t',
  ];
  assert.equal(await makeIptablesCommand(runner, () => true)(argv, io().io), 0);
  const text = calls.join('\n');
  for (const want of ['--uid-owner 2000', '--dport 8080 -j REDIRECT --to-ports 16006', '--to-ports 16001', '--dport 16020 -j RETURN', '--dport 5432 -j RETURN', '-d 169.254.169.254/32 -j RETURN']) {
    assert.ok(text.includes(want), want);
  }
  assert.ok(!text.includes('--dport 9090 -j REDIRECT'));
  assert.ok(calls.every((c) => c.startsWith('/sbin/ipt ') || c.startsWith('/sbin/ip6t ')));
  assert.ok(calls.includes('/sbin/ip6t -t nat -A SPIFFE_SIDECAR_OUTPUT -d fd00:10:96::/112 -j RETURN'));
  assert.ok(calls.includes('/sbin/ipt -t nat -A SPIFFE_SIDECAR_OUTPUT -d 10.96.0.0/12 -j RETURN'));
});
test('spiffe-sidecar iptables: plan prints the ip6tables commands after the iptables ones', async () => {
  const t = io();
  assert.equal(await makeIptablesCommand(recorder().runner, () => true)(['plan'], t.io), 0);
  const out = t.out().trim().split('\n');
  assert.match(out[0]!, /^iptables -t nat -N /);
  assert.match(out.at(-1)!, /^ip6tables -t nat -A OUTPUT -p tcp -j SPIFFE_SIDECAR_OUTPUT$/);
  assert.ok(out.includes('ip6tables -t nat -A SPIFFE_SIDECAR_OUTPUT -d ::1/128 -j RETURN'));
});
test('spiffe-sidecar iptables: --no-ipv6 prints and runs iptables only', async () => {
  const { calls, runner } = recorder((args) => (isClean(args) ? { code: 1 } : {}));
  const t = io();
  assert.equal(await makeIptablesCommand(runner, () => true)(['plan', '--no-ipv6'], t.io), 0);
  assert.doesNotMatch(t.out(), /ip6tables/);
  assert.equal(await makeIptablesCommand(runner, () => true)(['apply', '--no-ipv6'], io().io), 0);
  assert.ok(calls.every((c) => c.startsWith('iptables ')));
});
test('spiffe-sidecar iptables: a kernel without IPv6 gets IPv4 rules only, and says so', async () => {
  const t = io();
  let err = '';
  t.io.stderr.on('data', (d: Buffer) => (err += d.toString()));
  assert.equal(await makeIptablesCommand(recorder().runner, () => false)(['plan'], t.io), 0);
  assert.doesNotMatch(t.out(), /ip6tables/);
  assert.match(err, /no IPv6/);
});
test('spiffe-sidecar iptables: clean removes the IPv6 rules too', async () => {
  const { calls, runner } = recorder((args) => (args[2] === '-D' ? { code: 1 } : {}));
  const t = io();
  assert.equal(await makeIptablesCommand(runner, () => true)(['clean'], t.io), 0);
  assert.ok(calls.includes('ip6tables -t nat -X SPIFFE_SIDECAR_INBOUND'));
  assert.match(t.out(), /^ip6tables -t nat -X SPIFFE_SIDECAR_INBOUND$/m);
});
test('spiffe-sidecar iptables: clean reports when nothing was installed', async () => {
  const { runner } = recorder(() => ({ code: 1 }));
  const t = io();
  assert.equal(await makeIptablesCommand(runner, () => true)(['clean'], t.io), 0);
  assert.match(t.out(), /removed nothing/);
});
const usage: [string, string[]][] = [
  ['no action', []],
  ['unknown action', ['flush']],
  ['bad port', ['plan', '--inbound-port=abc']],
  ['bad port list', ['plan', '--inbound-ports=80,x']],
  ['bad CIDR', ['plan', '--exclude-outbound-cidrs=10.0.0.0/40']],
  ['bad IPv6 CIDR', ['plan', '--exclude-outbound-cidrs=fd00::/200']],
  ['root uid', ['plan', '--proxy-uid=0']],
  ['unknown flag', ['plan', '--capture-udp']],
  ['conflicting ports', ['plan', '--outbound-port=15020']],
];
for (const [name, argv] of usage) {
  test(`spiffe-sidecar iptables: usage error: ${name}`, async () => {
    await assert.rejects(makeIptablesCommand(recorder().runner, () => true)(argv, io().io), UsageError);
  });
}
