/**
 * The original-destination addon against the real kernel: a private network
 * namespace with nat REDIRECT rules (iptables and ip6tables), a probe
 * process inside it that connects through them, and what
 * originalDestination() reports for each accepted connection. Also the
 * typed errors for a missing addon and a closed socket, without root.
 * The namespace is deleted in t.after, also on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ORIGINAL_DESTINATION_ADDON,
  ORIGINAL_DESTINATION_BUILD_COMMAND,
  OriginalDestinationError,
  loadOriginalDestination,
  originalDestination,
} from '../../../sidecar/transparent/index.ts';
import { requireTools } from '../../support/tools.ts';

const run = promisify(execFile);
const probe = join(import.meta.dirname, 'original-destination-probe.ts');
const LISTEN_PORT = 15006;

test('a missing addon is a typed error naming the file and the build command', () => {
  const path = join(import.meta.dirname, 'no-such-addon.node');
  assert.throws(
    () => loadOriginalDestination(path),
    (err: unknown) =>
      err instanceof OriginalDestinationError &&
      err.code === 'transparent.addon_unavailable' &&
      err.message.includes(path) &&
      err.message.includes(ORIGINAL_DESTINATION_BUILD_COMMAND),
  );
  // The per-connection call loads lazily and fails the same way.
  assert.throws(() => originalDestination(createConnection({ port: 1 }).on('error', () => {}), path), { code: 'transparent.addon_unavailable' });
});

test('the built addon loads from its fixed path (built by make deps)', () => {
  loadOriginalDestination();
  assert.ok(ORIGINAL_DESTINATION_ADDON.endsWith(join('build', 'native', 'original_dst.node')));
});

test('a connection nobody redirected has no original destination; a closed socket is refused', async (t) => {
  const accepted = new Promise<Socket>((res) => {
    const server = createServer(res);
    t.after(() => server.close());
    server.listen(0, '127.0.0.1', () => {
      const c = createConnection({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
      c.on('error', () => {});
      t.after(() => c.destroy());
    });
  });
  const s = await accepted;
  assert.equal(originalDestination(s), undefined);
  s.destroy();
  assert.throws(() => originalDestination(s), { code: 'transparent.lookup_failed' });
});

test('REDIRECTed connections report where they were headed (private namespace)', async (t) => {
  if (!requireTools(t, ['ip', 'iptables', 'ip6tables'], { root: true })) return;
  const ns = `ssod-${process.pid}-${randomBytes(3).toString('hex')}`;
  t.after(() => run('ip', ['netns', 'del', ns]).catch(() => {}));
  await run('ip', ['netns', 'add', ns]);
  const inNs = (argv: string[]): Promise<{ stdout: string }> => run('ip', ['netns', 'exec', ns, ...argv], { timeout: 30_000 });
  await inNs(['ip', 'link', 'set', 'lo', 'up']);
  // A second local address (TEST-NET-1) so the original address differs from the listener's.
  await inNs(['ip', 'link', 'add', 'od0', 'type', 'veth', 'peer', 'name', 'od1']);
  await inNs(['ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'od0']);
  for (const dev of ['od0', 'od1']) await inNs(['ip', 'link', 'set', dev, 'up']);
  for (const bin of ['iptables', 'ip6tables']) {
    for (const port of ['8080', '9090']) {
      await inNs([bin, '-w', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', port, '-j', 'REDIRECT', '--to-ports', String(LISTEN_PORT)]);
    }
  }
  const targets = ['127.0.0.1:8080', '192.0.2.10:9090', '[::1]:9090', `127.0.0.1:${LISTEN_PORT}`, `[::1]:${LISTEN_PORT}`];
  const { stdout } = await inNs([process.execPath, '--disable-warning=ExperimentalWarning', probe, String(LISTEN_PORT), ...targets]);
  const seen = JSON.parse(stdout) as Record<string, unknown>;
  const rows: [string, unknown][] = [
    ['127.0.0.1:8080', { address: '127.0.0.1', port: 8080, family: 'IPv4' }],
    ['192.0.2.10:9090', { address: '192.0.2.10', port: 9090, family: 'IPv4' }],
    ['[::1]:9090', { address: '::1', port: 9090, family: 'IPv6' }],
    // Tracked by conntrack but not NATed: the original destination is the listener itself.
    [`127.0.0.1:${LISTEN_PORT}`, null],
    [`[::1]:${LISTEN_PORT}`, null],
  ];
  for (const [target, want] of rows) assert.deepEqual(seen[target], want, target);
});
