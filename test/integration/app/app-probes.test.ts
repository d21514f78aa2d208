/**
 * App probes end to end: the injector rewrites a pod's probes and sets
 * SPIFFE_SIDECAR_APP_PROBES; `spiffe-sidecar run` configured by that
 * environment answers the rewritten probe paths the kubelet would request
 * with the app's status, and nothing else under /app-probe/. A bad value
 * stops the sidecar at start with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { applyJsonPatch, injectionSettings, injectPod, type JsonObject } from '../../../sidecar/injector/index.ts';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { freePorts, httpCall, runCli, startEnvSidecar } from '../../support/sidecar-harness.ts';
import type { Cleanup } from '../../support/dev-agent-harness.ts';
import { listenLoopback } from '../../support/app-fixtures.ts';

/** A loopback app: /healthz is 200, /ready is 503 (not ready yet); counts requests per path. */
async function startProbedApp(cleanup: Cleanup): Promise<{ port: number; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(req.url === '/healthz' ? 200 : req.url === '/ready' ? 503 : 500).end();
  });
  return { port: await listenLoopback(cleanup, server), hits };
}

/** Injects a pod whose app has liveness and readiness httpGet probes on `appPort`; returns the sidecar's env value and the rewritten paths. */
function injected(appPort: number): { appProbes: string; liveness: string; readiness: string } {
  const pod: JsonObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'demo', annotations: { 'spiffe-sidecar.io/inject': 'true' } },
    spec: {
      containers: [{
        name: 'web',
        image: 'web:1',
        ports: [{ name: 'http', containerPort: appPort }],
        livenessProbe: { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'live' }] }, timeoutSeconds: 2 },
        readinessProbe: { httpGet: { path: '/ready', port: appPort } },
      }],
    },
  };
  const out = applyJsonPatch(pod, injectPod(pod, { settings: injectionSettings({ image: 'spiffe-sidecar:test' }) }).patch);
  const spec = out['spec'] as JsonObject;
  const all = [...(spec['initContainers'] as JsonObject[]), ...(spec['containers'] as JsonObject[])];
  const sidecar = all.find((c) => c['name'] === 'spiffe-sidecar')!;
  const web = all.find((c) => c['name'] === 'web')!;
  const env = (sidecar['env'] as JsonObject[]).find((e) => e['name'] === 'SPIFFE_SIDECAR_APP_PROBES');
  const path = (kind: string) => String(((web[kind] as JsonObject)['httpGet'] as JsonObject)['path']);
  return { appProbes: String(env?.['value']), liveness: path('livenessProbe'), readiness: path('readinessProbe') };
}

test('spiffe-sidecar run answers the probes the injector rewrote, and only those', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const app = await startProbedApp(t);
  const [other] = (await freePorts(1)) as [number];
  const pod = injected(app.port);
  assert.equal(pod.liveness, `/app-probe/${app.port}/healthz`);

  const [adminPort] = (await freePorts(1)) as [number];
  const p = await startEnvSidecar(t, adminPort, { SPIFFE_ENDPOINT_SOCKET: agent.address(), SPIFFE_SIDECAR_APP_PROBES: pod.appProbes });

  const live = await httpCall(adminPort, pod.liveness);
  assert.equal(live.status, 200, live.body);
  const ready = await httpCall(adminPort, pod.readiness);
  assert.equal(ready.status, 503, 'the app is not ready, and the probe says so');
  assert.deepEqual(Object.fromEntries(app.hits), { '/healthz': 1, '/ready': 1 });

  for (const path of [`/app-probe/${app.port}/other`, `/app-probe/${other}/healthz`]) {
    const r = await httpCall(adminPort, path);
    assert.equal(r.status, 404, path);
    assert.match(r.body, /no app probe is configured/);
  }
  assert.deepEqual(Object.fromEntries(app.hits), { '/healthz': 1, '/ready': 1 }, 'unconfigured paths reach nothing');
  assert.equal(await p.stop('SIGTERM'), 0);
});

test('an HTTPS app probe in SPIFFE_SIDECAR_APP_PROBES: exit 2 with the reason', async () => {
  const r = await runCli(['run'], {
    env: {
      SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/none.sock',
      SPIFFE_SIDECAR_APP_PROBES: JSON.stringify([{ port: 8443, target: '/healthz', scheme: 'HTTPS' }]),
    },
  });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /env SPIFFE_SIDECAR_APP_PROBES\[0\]\.scheme: "HTTPS": HTTPS app probes are not supported/);
});
