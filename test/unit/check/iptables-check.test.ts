import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfig, checkIptables, readNatTable } from '../../../sidecar/check/index.ts';
import type { Config } from '../../../sidecar/config/index.ts';
import { DEFAULT_IPTABLES_OPTIONS, planIptables } from '../../../sidecar/iptables/index.ts';

const text = 'spiffe:\n  endpointSocket: unix:///run/agent.sock\ninbound:\n  listen: 0.0.0.0:15006\n  app: 127.0.0.1:8080\noutbound:\n  listen: 127.0.0.1:15001\nadmin:\n  listen: 0.0.0.0:15020\n';
const config = checkConfig({ source: 'c.yaml', text }, {}).config as Config;

/** What `iptables -t nat -S` prints after `iptables apply` with these options (the planner's rules, `-t nat` dropped). */
function listing(overrides: Partial<typeof DEFAULT_IPTABLES_OPTIONS> = {}, drop: (line: string) => boolean = () => false): string {
  const builtins = ['-P PREROUTING ACCEPT', '-P INPUT ACCEPT', '-P OUTPUT ACCEPT', '-P POSTROUTING ACCEPT'];
  const rules = planIptables({ ...DEFAULT_IPTABLES_OPTIONS, ...overrides }).map((c) => c.slice(2).join(' '));
  return [...builtins, ...rules].filter((l) => !drop(l)).join('\n') + '\n';
}

const rows: { name: string; rules: string; status: string; detail: RegExp }[] = [
  { name: 'the planned rules for these ports', rules: listing(), status: 'ok', detail: /capturing inbound and outbound/ },
  { name: 'outbound capture off at install', rules: listing({ outbound: false }), status: 'ok', detail: /capturing inbound\)/ },
  { name: 'no project chains at all', rules: listing({}, (l) => l.includes('SPIFFE_SIDECAR')), status: 'warn', detail: /not captured/ },
  { name: 'inbound redirect to another port', rules: listing({ inboundPort: 15007 }), status: 'fail', detail: /SPIFFE_SIDECAR_INBOUND redirects to port 15007, the sidecar listens on 15006/ },
  { name: 'outbound redirect to another port', rules: listing({ outboundPort: 15002 }), status: 'fail', detail: /SPIFFE_SIDECAR_REDIRECT redirects to port 15002/ },
  { name: 'jump from PREROUTING missing', rules: listing({}, (l) => l.startsWith('-A PREROUTING')), status: 'fail', detail: /no jump from PREROUTING/ },
  { name: 'jump from OUTPUT missing', rules: listing({}, (l) => l.startsWith('-A OUTPUT')), status: 'fail', detail: /no jump from OUTPUT/ },
  { name: 'a chain missing', rules: listing({}, (l) => l.includes('SPIFFE_SIDECAR_REDIRECT')), status: 'fail', detail: /chain SPIFFE_SIDECAR_REDIRECT missing/ },
];
for (const row of rows) {
  test(`iptables: ${row.name}`, () => {
    const r = checkIptables({ kind: 'rules', text: row.rules }, config);
    assert.equal(r.status, row.status, r.detail);
    assert.match(r.detail, row.detail);
  });
}
for (const [kind, detail] of [['not-in-pod', /not in a Kubernetes pod/], ['not-root', /not root/]] as const) {
  test(`iptables: warns ${kind}`, () => {
    const r = checkIptables({ kind }, config);
    assert.equal(r.status, 'warn');
    assert.match(r.detail, detail);
  });
}

const runner = async (file: string, args: readonly string[]) => ({ code: 0, stdout: `${file} ${args.join(' ')}`, stderr: '' });
test('readNatTable: does not run iptables outside a pod or as non-root', async () => {
  assert.deepEqual(await readNatTable({ env: {}, uid: 0, runner }), { kind: 'not-in-pod' });
  assert.deepEqual(await readNatTable({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, uid: 1337, runner }), { kind: 'not-root' });
});
test('readNatTable: lists the nat table read-only as root in a pod', async () => {
  assert.deepEqual(await readNatTable({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, uid: 0, runner }), { kind: 'rules', text: 'iptables -t nat -S' });
});
test('readNatTable: reports a failed listing', async () => {
  const failing = async () => ({ code: 4, stdout: '', stderr: 'Permission denied (you must be root)\n' });
  assert.deepEqual(await readNatTable({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, uid: 0, runner: failing }), { kind: 'unreadable', error: 'Permission denied (you must be root)' });
});
