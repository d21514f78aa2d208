/**
 * originalDestination() behind the product's own redirect rules: a private
 * network namespace gets `spiffe-sidecar iptables apply` (iptables and
 * ip6tables, outbound only), and a probe in it listens on `[::]:15001`
 * with one dual-stack socket, as the injected sidecar's outbound listener
 * does, then dials out. An IPv4 connection arrives IPv4-mapped on that
 * socket and must still be looked up in IPv4 conntrack; an IPv6 one in
 * IPv6 conntrack; connections the rules leave alone (loopback, the pod's
 * own address) are "not redirected". The namespace is deleted in t.after,
 * also on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { mustRun } from '../../support/netns.ts';
import { Teardown } from '../../support/teardown.ts';
import { requireTools } from '../../support/tools.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const node = [process.execPath, '--disable-warning=ExperimentalWarning'];
const probe = join(import.meta.dirname, 'dual-stack-probe.ts');
const OUTBOUND_PORT = 15001;
/** The sidecar's uid in the rules; the probe runs as root, so its connections are captured. */
const PROXY_UID = 1999;

test('originalDestination on a dual-stack listener behind `iptables apply`: IPv4-mapped and IPv6 redirects, and what the rules leave alone', async (t) => {
  if (!requireTools(t, ['ip', 'iptables', 'ip6tables'], { root: true })) return;
  const td = new Teardown();
  t.after(() => td.run());
  const ns = `ssodr${randomBytes(3).toString('hex')}`;
  await mustRun(['ip', 'netns', 'add', ns]);
  td.addCommand(`delete netns ${ns}`, ['ip', 'netns', 'del', ns], { ignoreFailure: true });
  const inNs = (...argv: string[]): Promise<string> => mustRun(['ip', 'netns', 'exec', ns, ...argv], 60_000);
  await inNs('ip', 'link', 'set', 'lo', 'up');
  // A pod-like eth0 (a veth whose peer stays here) with an address of each
  // family, and routes to "remote" ranges through it: those destinations
  // leave through a non-loopback interface, so the OUTPUT rules capture them.
  await inNs('ip', 'link', 'add', 'od0', 'type', 'veth', 'peer', 'name', 'od1');
  await inNs('ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'od0');
  await inNs('ip', '-6', 'addr', 'add', '2001:db8:1::10/64', 'dev', 'od0', 'nodad');
  for (const dev of ['od0', 'od1']) await inNs('ip', 'link', 'set', dev, 'up');
  await inNs('ip', 'route', 'add', '198.51.100.0/24', 'dev', 'od0');
  await inNs('ip', '-6', 'route', 'add', '2001:db8:2::/64', 'dev', 'od0');
  await inNs(...node, join(root, 'sidecar', 'cli', 'main.ts'), 'iptables', 'apply', '--proxy-uid', String(PROXY_UID), '--outbound-port', String(OUTBOUND_PORT), '--inbound-ports', '');

  const rows: { name: string; target: string; want: unknown }[] = [
    { name: 'IPv4 redirect → the IPv4 original, found through the IPv4-mapped socket', target: '198.51.100.7:5432', want: { original: { address: '198.51.100.7', port: 5432, family: 'IPv4' }, local: '::ffff:127.0.0.1' } },
    { name: 'IPv6 redirect (ip6tables) → the IPv6 original', target: '[2001:db8:2::7]:6379', want: { original: { address: '2001:db8:2::7', port: 6379, family: 'IPv6' }, local: '::1' } },
    { name: 'IPv4 loopback is never captured → not redirected', target: `127.0.0.1:${OUTBOUND_PORT}`, want: { original: null, local: '::ffff:127.0.0.1' } },
    { name: 'IPv6 loopback is never captured → not redirected', target: `[::1]:${OUTBOUND_PORT}`, want: { original: null, local: '::1' } },
    { name: "the pod's own IPv4 address (routed over lo) → not redirected", target: `192.0.2.10:${OUTBOUND_PORT}`, want: { original: null, local: '::ffff:192.0.2.10' } },
    { name: "the pod's own IPv6 address (routed over lo) → not redirected", target: `[2001:db8:1::10]:${OUTBOUND_PORT}`, want: { original: null, local: '2001:db8:1::10' } },
  ];
  const seen = JSON.parse(await inNs(...node, probe, String(OUTBOUND_PORT), ...rows.map((r) => r.target))) as Record<string, unknown>;
  for (const row of rows) assert.deepEqual(seen[row.target], row.want, row.name);
});
