/**
 * AppProber: which probes it accepts, that only exact configured paths are
 * found (no normalisation an attacker could steer), and the timeout driven
 * by the injected clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { AdminError } from '../../../sidecar/admin/admin-error.ts';
import { AppProber, appProbePath, type AppProbeTarget } from '../../../sidecar/admin/app-prober.ts';
import { ManualClock } from '../../../sidecar/core/index.ts';

const probe = (extra: Partial<AppProbeTarget> = {}): AppProbeTarget => ({ port: 8080, target: '/healthz', timeoutMs: 1000, ...extra });

const rows: [string, AppProbeTarget[], RegExp][] = [
  ['port 0', [probe({ port: 0 })], /port must be 1-65535/],
  ['port 65536', [probe({ port: 65536 })], /port must be 1-65535/],
  ['fractional port', [probe({ port: 80.5 })], /port must be 1-65535/],
  ['target without leading /', [probe({ target: 'healthz' })], /target must start with "\/"/],
  ['absolute-form target', [probe({ target: 'http://other/' })], /target must start with "\/"/],
  ['zero timeout', [probe({ timeoutMs: 0 })], /timeout must be positive/],
  ['two probes on one path (queries differ)', [probe({ target: '/h?a=1' }), probe({ target: '/h?b=2' })], /\/app-probe\/8080\/h is configured twice/],
];
for (const [name, probes, message] of rows) {
  test(`AppProber refuses probes it cannot serve: ${name}`, () => {
    assert.throws(
      () => new AppProber(probes),
      (e: unknown) => e instanceof AdminError && e.code === 'admin.app_probes_invalid' && message.test(e.message),
    );
  });
}

const prober = new AppProber([probe(), probe({ port: 9090, target: '/ready?full=1' })]);
const found: [string, string | undefined][] = [
  ['/app-probe/8080/healthz', '8080 /healthz'],
  ['/app-probe/9090/ready', '9090 /ready?full=1'],
  ['/app-probe/8080/healthz/', undefined],
  ['/app-probe/8080/HEALTHZ', undefined],
  ['/app-probe/08080/healthz', undefined],
  ['/app-probe/8080/%68ealthz', undefined],
  ['/app-probe/8080/x/../healthz', undefined],
  ['/app-probe/8080//healthz', undefined],
  ['/app-probe/9090/healthz', undefined],
  ['/app-probe/8080/ready', undefined],
  ['/app-probe/8080', undefined],
  ['/app-probe/', undefined],
];
for (const [path, want] of found) {
  test(`AppProber.find: exact paths only: ${path} → ${want ?? 'not configured'}`, () => {
    const p = prober.find(path);
    assert.equal(p === undefined ? undefined : `${p.port} ${p.target}`, want);
  });
}
test('AppProber.find: exact paths only: paths() lists the served paths (logged when the admin listener starts)', () => {
  assert.deepEqual(prober.paths(), ['/app-probe/8080/healthz', '/app-probe/9090/ready']);
});
test('AppProber.find: exact paths only: appProbePath drops the query of the target', () => {
  assert.equal(appProbePath(8080, '/health?full=1'), '/app-probe/8080/health');
  assert.equal(appProbePath(8080, '/'), '/app-probe/8080/');
});

test('AppProber.probe: an app that accepts but never answers gets 503 once the clock passes the timeout', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const port = (silent.address() as { port: number }).port;
  const clock = new ManualClock();
  const prober = new AppProber([probe({ port, timeoutMs: 1500 })], { clock });
  const answer = prober.probe(prober.find(`/app-probe/${port}/healthz`)!);
  // Wait until the request reached the app, so the timeout (not a connect error) is what ends it.
  await new Promise<void>((resolve) => silent.once('connection', () => resolve()));
  assert.equal(clock.pendingTimers, 1);
  clock.advance(1500);
  assert.deepEqual(await answer, { status: 503, body: `app-probe: 127.0.0.1:${port} did not answer within 1500 ms\n` });
  assert.equal(clock.pendingTimers, 0);
});
