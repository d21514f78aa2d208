/**
 * Kubernetes-style pods on one node, without Kubernetes: each pod is a
 * network namespace on a bridge, with its app bound to 127.0.0.1, its
 * sidecar running as its own uid, and the redirect rules installed by
 * `spiffe-sidecar iptables apply` (what the injected init container runs).
 * A real SPIRE server and agent on the node issue identities by uid
 * (`unix:uid:<sidecar uid>`), as the k8s attestor would by service account,
 * and a real Prometheus scrapes every sidecar's admin port.
 *
 * Pods: frontend (HTTP app calling http://backend:8080/ and gRPC client),
 * backend (HTTP echo + gRPC server, policy admits frontend only), intruder
 * (a sidecar with an identity the policy does not list) and intruder2 (no
 * sidecar at all).
 *
 * Needs root, ip, iptables, setpriv, curl, prometheus, and SPIRE (built by
 * install-spire.sh, which needs Go and a C compiler). Everything it creates
 * is removed in t.after and by a process 'exit' hook; the last test checks
 * that nothing of the run is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requireTools } from '../../support/tools.ts';
import { assertReachableByOthers, nodeBin, projectRoot } from '../../support/spire.ts';
import { nsRun } from '../../support/netns.ts';
import type { LoggedProcess } from '../../support/logged-process.ts';
import { podCurl } from '../../support/pod-checks.ts';
import { startPrometheus, type Prometheus } from '../../support/prometheus.ts';
import { as, assertAllReady, assertNoLeftovers, NODE_ARGV as NODE, POD_PORTS, PodRun, SIDECAR_MAIN as MAIN, type PodRunRecord } from '../../support/pod-run.ts';

const TD = 'example.org';
const ID = {
  frontend: `spiffe://${TD}/ns/demo/sa/frontend`,
  backend: `spiffe://${TD}/ns/demo/sa/backend`,
  intruder: `spiffe://${TD}/ns/demo/sa/intruder`,
} as const;

/** Sidecars and apps run as different uids (as separate containers of a pod would). */
const UID = {
  frontendSidecar: 1311,
  frontendApp: 1312,
  backendSidecar: 1321,
  backendApp: 1322,
  intruderSidecar: 1331,
  intruderApp: 1332,
  intruder2App: 1342,
} as const;

const { inbound: INBOUND_PORT, outbound: OUTBOUND_PORT, admin: ADMIN_PORT } = POD_PORTS;
const HERE = join('test', 'e2e', 'k8s-pods');

/** What the last test needs to look for leftovers of the first. */
const record: PodRunRecord = {};

/** The sidecar configuration of one pod, as the injector would render it (JSON is YAML). */
function sidecarConfig(socket: string, extra: { policyFile?: string; grpcPort?: boolean }): string {
  return JSON.stringify(
    {
      spiffe: { endpointSocket: socket },
      inbound: {
        listen: `0.0.0.0:${INBOUND_PORT}`,
        app: '127.0.0.1:8080',
        ...(extra.grpcPort ? { appPorts: [{ port: 9090, app: '127.0.0.1:9090', appProtocol: 'h2c' }] } : {}),
        ...(extra.policyFile ? { policyFile: extra.policyFile } : {}),
      },
      outbound: { listen: `127.0.0.1:${OUTBOUND_PORT}`, transparent: { enabled: true } },
      admin: { listen: `0.0.0.0:${ADMIN_PORT}` },
      drain: { timeout: '1s' },
      log: { level: 'debug', accessLog: true },
    },
    null,
    2,
  );
}

test('pods as network namespaces: transparent SPIFFE mTLS with SPIRE, iptables and Prometheus', { timeout: 170_000 }, async (t) => {
  if (!requireTools(t, ['ip', 'iptables', 'prometheus', 'curl', 'setpriv', 'pgrep'], { root: true })) return;
  assertReachableByOthers([
    { path: nodeBin, exec: true },
    { path: join(projectRoot, MAIN) },
    { path: join(projectRoot, HERE, 'backend-app.ts') },
    { path: join(projectRoot, 'node_modules', '@grpc', 'grpc-js', 'package.json') },
    { path: join(projectRoot, 'sidecar', 'workload', 'proto', 'workload.proto') },
  ]);
  const run = await PodRun.start(t, {
    label: 'pods',
    trustDomain: TD,
    network: { pods: ['frontend', 'backend', 'intruder', 'intruder2'] },
    entries: [
      { spiffeId: ID.frontend, uid: UID.frontendSidecar },
      { spiffeId: ID.backend, uid: UID.backendSidecar },
      { spiffeId: ID.intruder, uid: UID.intruderSidecar },
    ],
    record,
  });
  const net = run.net;
  const dir = run.dir;
  const step = run.step.bind(run);
  t.diagnostic(`bridge ${net.bridge} ${net.subnet}; pods ${[...net.pods.values()].map((p) => `${p.name}=${p.ip}`).join(' ')}`);

  const policyFile = run.writeFile('backend-policy.yaml', ['version: 1', 'rules:', '  - name: frontend-only', '    from:', `      - id: ${ID.frontend}`, ''].join('\n'));

  // Apps first (the app containers), each as its own uid.
  await step('apps', async () => {
    const backendApp = run.startIn('backend-app', 'backend', as(UID.backendApp), [...NODE, join(HERE, 'backend-app.ts'), dir]);
    const frontendApp = run.startIn('frontend-app', 'frontend', as(UID.frontendApp), [...NODE, join(HERE, 'frontend-app.ts'), dir]);
    await Promise.all([backendApp.waitForLine(/^ready$/, 20_000), frontendApp.waitForLine(/^ready$/, 20_000)]);
  });

  // The init container's job, through the same CLI code path, as root in the pod.
  const sidecarUid: Record<string, number> = { frontend: UID.frontendSidecar, backend: UID.backendSidecar, intruder: UID.intruderSidecar };
  await step('iptables apply', () => run.applyIptables(Object.entries(sidecarUid).map(([pod, uid]) => ({ pod, uid }))));

  const sidecars = await step('sidecars', async () => {
    const out = new Map<string, LoggedProcess>();
    for (const pod of Object.keys(sidecarUid)) {
      const configFile = run.writeFile(`${pod}-sidecar.yaml`, sidecarConfig(run.spire.socketAddress, pod === 'backend' ? { policyFile, grpcPort: true } : {}));
      out.set(pod, run.startIn(`${pod}-sidecar`, pod, as(sidecarUid[pod]!), [...NODE, MAIN, 'run', '--config', configFile]));
    }
    // SPIRE's agent syncs new entries within ~5-10 s; the sidecars wait for their SVIDs.
    assertAllReady(await run.sidecarsReady(out, 60_000));
    return out;
  });

  const prometheus: Prometheus = await step('Prometheus', () =>
    startPrometheus({
      dir,
      teardown: run.teardown,
      targets: [...sidecars.keys()].map((pod) => ({ address: `${net.pod(pod).ip}:${ADMIN_PORT}`, labels: { pod } })),
    }),
  );

  const sub = run.sub.bind(run);

  await sub('(a) the frontend app calls http://backend:8080/ unchanged; the backend app sees the frontend\'s SPIFFE ID and XFCC', async () => {
    const r = await podCurl(net, 'frontend', as(UID.frontendApp), ['http://127.0.0.1:8080/orders?id=7']);
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.status, 200, r.body);
    const got = JSON.parse(r.body) as { status: number; body: string; error?: string };
    assert.equal(got.status, 200, `frontend app got ${r.body}`);
    const echo = JSON.parse(got.body) as { app: string; url: string; headers: Record<string, string> };
    assert.equal(echo.app, 'backend');
    assert.equal(echo.url, '/orders?id=7');
    assert.equal(echo.headers['host'], 'backend:8080');
    assert.equal(echo.headers['x-client-spiffe-id'], ID.frontend);
    const xfcc = echo.headers['x-forwarded-client-cert'] ?? '';
    assert.match(xfcc, new RegExp(`(^|;)By=${ID.backend.replaceAll('.', '\\.')}(;|$)`));
    assert.match(xfcc, new RegExp(`(^|;)URI=${ID.frontend.replaceAll('.', '\\.')}(;|$)`));
  });

  await sub('(b) a pod without a sidecar cannot reach the backend app: only mTLS gets in', async () => {
    const backendIp = net.pod('backend').ip;
    // Control: the network path works (the admin port is never redirected),
    // so the refusals below come from the inbound listener, not from routing.
    const control = await podCurl(net, 'intruder2', as(UID.intruder2App), [`http://${backendIp}:${ADMIN_PORT}/healthz`]);
    assert.equal(control.status, 200, `admin port unreachable from intruder2: ${control.stderr}`);
    for (const url of [`http://${backendIp}:8080/`, `http://${backendIp}:${INBOUND_PORT}/`, `http://backend:8080/`, `https://${backendIp}:8080/`, `https://backend:${INBOUND_PORT}/`]) {
      const r = await podCurl(net, 'intruder2', as(UID.intruder2App), ['-k', url]);
      assert.doesNotMatch(r.body, /"app":"backend"/, url);
      assert.notEqual(r.exit, 0, `${url} answered: ${r.status} ${r.body}`);
      // Refused, reset, empty reply or failed handshake; a timeout would mean no path at all.
      assert.notEqual(r.exit, 28, `${url}: timed out instead of being refused: ${r.stderr}`);
    }
  });

  await sub('(c) a sidecar whose identity the backend policy does not allow gets 403', async () => {
    const r = await podCurl(net, 'intruder', as(UID.intruderApp), ['http://backend:8080/']);
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.status, 403, r.body);
    assert.doesNotMatch(r.body, /"app":"backend"/);
  });

  await sub('(d) gRPC from the frontend pod to backend:9090 crosses the mesh with status and trailers intact', async () => {
    const r = await nsRun(net.pod('frontend').ns, [...NODE, join(projectRoot, HERE, 'grpc-client.ts'), 'backend:9090', dir], as(UID.frontendApp), 30_000);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      ok: { code: number; details: string; reply: { message: string; callerId: string } | null; trailers: Record<string, unknown> };
      fail: { code: number; details: string; trailers: Record<string, unknown> };
    };
    assert.equal(out.ok.code, 0, out.ok.details);
    assert.deepEqual(out.ok.reply, { message: 'hello through the mesh', callerId: ID.frontend });
    assert.equal(out.ok.trailers['x-trailer-check'], 'kept');
    assert.equal(out.fail.code, 5, `NOT_FOUND expected, got ${out.fail.code} ${out.fail.details}`);
    assert.equal(out.fail.details, 'no such thing: missing-item');
    assert.equal(out.fail.trailers['x-trailer-check'], 'kept');
  });

  await sub('(e) Prometheus scrapes every sidecar: request counts by peer SPIFFE ID and SVID expiry', async () => {
    const has = (want: Record<string, string>) => (samples: { metric: Record<string, string>; value: number }[]) =>
      samples.some((x) => x.value > 0 && Object.entries(want).every(([k, v]) => x.metric[k] === v));
    await prometheus.waitFor(`sidecar_requests_total{pod="backend",direction="inbound"}`, has({ peer_spiffe_id: ID.frontend, code: '200' }));
    await prometheus.waitFor(`sidecar_requests_total{pod="backend",direction="inbound"}`, has({ peer_spiffe_id: ID.intruder, code: '403' }));
    await prometheus.waitFor(`sidecar_requests_total{pod="frontend",direction="outbound"}`, has({ peer_spiffe_id: ID.backend, code: '200' }));
    await prometheus.waitFor(`sidecar_requests_total{pod="intruder",direction="outbound"}`, has({ peer_spiffe_id: ID.backend, code: '403' }));
    // intruder2's plaintext and certificate-less attempts (b), refused by the mTLS listener.
    await prometheus.waitFor(`sidecar_tls_handshake_errors_total{pod="backend",direction="inbound"}`, has({ reason: 'not_tls' }));
    await prometheus.waitFor(`sidecar_tls_handshake_errors_total{pod="backend",direction="inbound"}`, has({ reason: 'no_certificate' }));
    const expiry = await prometheus.waitFor('sidecar_svid_expiry_timestamp_seconds', (xs) => new Set(xs.map((x) => x.metric['pod'])).size === 3);
    const now = Date.now() / 1000;
    for (const x of expiry) {
      assert.ok(x.value > now && x.value < now + 2 * 3600, `${x.metric['pod']}: SVID expiry ${x.value} is not within the next 2 h`);
    }
    assert.deepEqual(expiry.map((x) => x.metric['pod']).sort(), ['backend', 'frontend', 'intruder']);
  });
});

test('pods e2e teardown leaves no namespace, link, /etc/netns entry, iptables rule or process behind', (t) => {
  assertNoLeftovers(t, record, 'pods');
});
