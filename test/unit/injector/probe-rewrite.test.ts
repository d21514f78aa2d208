/**
 * App probes: httpGet probes of captured ports go through the admin port
 * (/app-probe/<port>/<path>), originals are kept in an annotation, the
 * sidecar's SPIFFE_SIDECAR_APP_PROBES lists exactly those probes, and
 * every other probe is left alone (with a warning where it will not work).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, injectPod, type JsonObject } from '../../../sidecar/injector/index.ts';
import { container, env, pod, settings } from './fixtures.ts';

function run(probe: JsonObject, extra: Record<string, string> = {}, ports: JsonObject[] = [{ name: 'http', containerPort: 8080 }]) {
  const p = pod({
    annotations: { 'spiffe-sidecar.io/inject': 'true', ...extra },
    containers: [{ name: 'app', image: 'a', ports, livenessProbe: probe }],
  });
  const r = injectPod(p, { settings: settings() });
  const out = applyJsonPatch(p, r.patch);
  const app = ((out['spec'] as JsonObject)['containers'] as JsonObject[]).find((c) => c['name'] === 'app')!;
  const ann = (out['metadata'] as JsonObject)['annotations'] as Record<string, string>;
  return { probe: app['livenessProbe'] as JsonObject, warnings: r.warnings, originals: ann['spiffe-sidecar.io/app-probes'] };
}

const rewrittenRows: [string, JsonObject, string][] = [
  ['numeric port', { path: '/healthz', port: 8080 }, '/app-probe/8080/healthz'],
  ['named port resolved to its number', { path: '/healthz', port: 'http' }, '/app-probe/8080/healthz'],
  ['no path means /', { port: 8080 }, '/app-probe/8080/'],
  ['path without leading slash', { path: 'healthz', port: 8080 }, '/app-probe/8080/healthz'],
  ['query string kept', { path: '/health?full=1', port: 8080 }, '/app-probe/8080/health?full=1'],
  ['explicit HTTP scheme', { path: '/h', port: 8080, scheme: 'HTTP' }, '/app-probe/8080/h'],
];
for (const [name, get, path] of rewrittenRows) {
  test(`httpGet probes of captured ports are rewritten: ${name}`, () => {
    const r = run({ httpGet: get, periodSeconds: 7 });
    assert.deepEqual(r.probe, { httpGet: { path, port: 15020, scheme: 'HTTP' }, periodSeconds: 7 });
    assert.deepEqual(JSON.parse(r.originals!), { 'app/livenessProbe': get });
  });
}
test('httpGet probes of captured ports are rewritten: custom headers are kept', () => {
  const headers = [{ name: 'X-Probe', value: '1' }];
  const r = run({ httpGet: { path: '/h', port: 8080, httpHeaders: headers } });
  assert.deepEqual((r.probe['httpGet'] as JsonObject)['httpHeaders'], headers);
});
test('httpGet probes of captured ports are rewritten: readiness and startup probes too, and user native sidecars', () => {
  const p = pod({
    containers: [{
      name: 'app', image: 'a', ports: [{ containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/r', port: 8080 } },
      startupProbe: { httpGet: { path: '/s', port: 8080 } },
    }],
    spec: { initContainers: [{ name: 'logger', image: 'l', restartPolicy: 'Always', ports: [{ containerPort: 8080 }], livenessProbe: { httpGet: { path: '/l', port: 8080 } } }] },
  });
  const out = applyJsonPatch(p, injectPod(p, { settings: settings() }).patch);
  const spec = out['spec'] as JsonObject;
  const app = (spec['containers'] as JsonObject[])[0]!;
  const logger = (spec['initContainers'] as JsonObject[]).find((c) => c['name'] === 'logger')!;
  const path = (c: JsonObject, k: string) => ((c[k] as JsonObject)['httpGet'] as JsonObject)['path'];
  assert.equal(path(app, 'readinessProbe'), '/app-probe/8080/r');
  assert.equal(path(app, 'startupProbe'), '/app-probe/8080/s');
  assert.equal(path(logger, 'livenessProbe'), '/app-probe/8080/l');
});

const unchangedRows: [string, JsonObject, Record<string, string>, RegExp | null][] = [
  ['httpGet of a port that is not captured', { httpGet: { path: '/m', port: 9100 } }, {}, null],
  ['httpGet of an excluded port', { httpGet: { path: '/h', port: 8080 } }, { 'spiffe-sidecar.io/inbound-ports': '*', 'spiffe-sidecar.io/exclude-inbound-ports': '8080', 'spiffe-sidecar.io/app-port': '8080' }, null],
  ['httpGet to another host', { httpGet: { path: '/h', port: 8080, host: 'example.com' } }, {}, null],
  ['HTTPS httpGet (warned: it hits the mTLS listener)', { httpGet: { path: '/h', port: 8080, scheme: 'HTTPS' } }, {}, /HTTPS probe/],
  ['unknown named port (warned)', { httpGet: { path: '/h', port: 'nope' } }, {}, /not a declared port/],
  ['tcpSocket (warned: checks the sidecar, not the app)', { tcpSocket: { port: 8080 } }, {}, /tcpSocket/],
  ['grpc (warned: fails against mTLS)', { grpc: { port: 8080 } }, {}, /grpc probe/],
  ['exec (runs inside the container, loopback is never redirected)', { exec: { command: ['true'] } }, {}, null],
];
for (const [name, probe, extra, warning] of unchangedRows) {
  test(`probes left unchanged: ${name}`, () => {
    const r = run(probe, extra);
    assert.deepEqual(r.probe, probe);
    assert.equal(r.originals, undefined);
    if (warning) assert.match(r.warnings.join('\n'), warning);
    else assert.equal(r.warnings.filter((w) => /probe/i.test(w)).length, 0);
  });
}
test('probes left unchanged: with inbound-ports "*", any app port is captured, so its probe is rewritten', () => {
  const r = run({ httpGet: { path: '/m', port: 9100 } }, { 'spiffe-sidecar.io/inbound-ports': '*', 'spiffe-sidecar.io/app-port': '8080' });
  assert.equal((r.probe['httpGet'] as JsonObject)['path'], '/app-probe/9100/m');
});

/** Injects a pod whose app container has `probes` and returns the sidecar's env entries and the warnings. */
function served(probes: JsonObject, extra: Record<string, string> = {}, spec: JsonObject = {}) {
  const p = pod({
    annotations: { 'spiffe-sidecar.io/inject': 'true', ...extra },
    containers: [{ name: 'app', image: 'a', ports: [{ name: 'http', containerPort: 8080 }], ...probes }],
    spec,
  });
  const r = injectPod(p, { settings: settings() });
  const out = applyJsonPatch(p, r.patch);
  const value = env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_APP_PROBES');
  return { entries: value === undefined ? undefined : (JSON.parse(value) as JsonObject[]), warnings: r.warnings, out };
}

const servedRows: [string, JsonObject, JsonObject[] | undefined][] = [
  ['one probe: port and target', { livenessProbe: { httpGet: { path: '/healthz', port: 8080 } } }, [{ port: 8080, target: '/healthz' }]],
  ['named port resolved, missing path is /', { livenessProbe: { httpGet: { port: 'http' } } }, [{ port: 8080, target: '/' }]],
  ['the query stays in the target', { livenessProbe: { httpGet: { path: '/health?full=1', port: 8080 } } }, [{ port: 8080, target: '/health?full=1' }]],
  ['timeoutSeconds becomes the timeout', { livenessProbe: { httpGet: { path: '/h', port: 8080 }, timeoutSeconds: 3 } }, [{ port: 8080, target: '/h', timeout: '3s' }]],
  ['timeoutSeconds 1 is the default and left out', { livenessProbe: { httpGet: { path: '/h', port: 8080 }, timeoutSeconds: 1 } }, [{ port: 8080, target: '/h' }]],
  ['absurd timeouts are capped at the sidecar maximum (24h)', { livenessProbe: { httpGet: { path: '/h', port: 8080 }, timeoutSeconds: 999_999 } }, [{ port: 8080, target: '/h', timeout: '86400s' }]],
  [
    'httpHeaders are the headers the sidecar sends',
    { livenessProbe: { httpGet: { path: '/h', port: 8080, httpHeaders: [{ name: 'X-Probe', value: '1' }, { name: 'Host', value: 'app.local' }] } } },
    [{ port: 8080, target: '/h', headers: [{ name: 'X-Probe', value: '1' }, { name: 'Host', value: 'app.local' }] }],
  ],
  [
    'two probes of the same request: one entry, the longest timeout',
    { livenessProbe: { httpGet: { path: '/h', port: 8080 }, timeoutSeconds: 2 }, readinessProbe: { httpGet: { path: '/h', port: 'http' }, timeoutSeconds: 5 } },
    [{ port: 8080, target: '/h', timeout: '5s' }],
  ],
  [
    'two paths: two entries',
    { livenessProbe: { httpGet: { path: '/live', port: 8080 } }, readinessProbe: { httpGet: { path: '/ready', port: 8080 } } },
    [{ port: 8080, target: '/live' }, { port: 8080, target: '/ready' }],
  ],
  ['no rewritten probe: no variable (port not captured)', { livenessProbe: { httpGet: { path: '/m', port: 9100 } } }, undefined],
  ['no rewritten probe: no variable (HTTPS is warned, not served)', { livenessProbe: { httpGet: { path: '/h', port: 8080, scheme: 'HTTPS' } } }, undefined],
  ['no rewritten probe: no variable (tcpSocket)', { livenessProbe: { tcpSocket: { port: 8080 } } }, undefined],
  ['no probes at all: no variable', {}, undefined],
];
for (const [name, probes, entries] of servedRows) {
  test(`SPIFFE_SIDECAR_APP_PROBES lists exactly the rewritten probes: ${name}`, () => assert.deepEqual(served(probes).entries, entries));
}

test('SPIFFE_SIDECAR_APP_PROBES lists exactly the rewritten probes: probes of user native sidecars are listed too', () => {
  const spec = { initContainers: [{ name: 'logger', image: 'l', restartPolicy: 'Always', livenessProbe: { httpGet: { path: '/l', port: 8080 } } }] };
  assert.deepEqual(served({ readinessProbe: { httpGet: { path: '/r', port: 8080 } } }, {}, spec).entries, [
    { port: 8080, target: '/r' },
    { port: 8080, target: '/l' },
  ]);
});

test('SPIFFE_SIDECAR_APP_PROBES lists exactly the rewritten probes: each rewritten path is /app-probe/<port> + the target of an entry', () => {
  const r = served({ livenessProbe: { httpGet: { path: '/live?x=1', port: 'http' } }, readinessProbe: { httpGet: { path: 'ready', port: 8080 } } });
  const app = container(r.out, 'app')!;
  const paths = ['livenessProbe', 'readinessProbe'].map((k) => ((app[k] as JsonObject)['httpGet'] as JsonObject)['path']);
  assert.deepEqual(paths, r.entries!.map((e) => `/app-probe/${String(e['port'])}${String(e['target'])}`));
});

test('SPIFFE_SIDECAR_APP_PROBES lists exactly the rewritten probes: the same path with another query: one entry (the first probe), and a warning', () => {
  const r = served({ livenessProbe: { httpGet: { path: '/h?a=1', port: 8080 } }, readinessProbe: { httpGet: { path: '/h?b=2', port: 8080 } } });
  assert.deepEqual(r.entries, [{ port: 8080, target: '/h?a=1' }]);
  assert.match(r.warnings.join('\n'), /app readinessProbe: probes the same port and path as app livenessProbe with another query or headers/);
});

test('SPIFFE_SIDECAR_APP_PROBES lists exactly the rewritten probes: the same path with other headers: one entry (the first probe), and a warning', () => {
  const r = served({
    livenessProbe: { httpGet: { path: '/h', port: 8080, httpHeaders: [{ name: 'X-A', value: '1' }] } },
    readinessProbe: { httpGet: { path: '/h', port: 8080, httpHeaders: [{ name: 'X-A', value: '2' }] } },
  });
  assert.deepEqual(r.entries, [{ port: 8080, target: '/h', headers: [{ name: 'X-A', value: '1' }] }]);
  assert.match(r.warnings.join('\n'), /with another query or headers/);
});

test('SPIFFE_SIDECAR_APP_PROBES lists exactly the rewritten probes: headers the sidecar cannot send are dropped with a warning', () => {
  const r = served({
    livenessProbe: {
      httpGet: {
        path: '/h',
        port: 8080,
        httpHeaders: [
          { name: 'Connection', value: 'close' },
          { name: 'X-Bad', value: 'a\r\nb' },
          { name: 'Host', value: 'a' },
          { name: 'Host', value: 'b' },
          { name: 'X-Ok', value: '1' },
        ],
      },
    },
  });
  assert.deepEqual(r.entries, [{ port: 8080, target: '/h', headers: [{ name: 'Host', value: 'a' }, { name: 'X-Ok', value: '1' }] }]);
  const w = r.warnings.join('\n');
  assert.match(w, /header "Connection" is not sent/);
  assert.match(w, /header "X-Bad" is not sent/);
  assert.match(w, /only the first Host header/);
});

test('SPIFFE_SIDECAR_APP_PROBES lists exactly the rewritten probes: a path the sidecar could not match exactly is left unchanged, warned and not served', () => {
  const probe = { httpGet: { path: '/a b', port: 8080 } };
  const r = served({ livenessProbe: probe });
  assert.equal(r.entries, undefined);
  assert.deepEqual(container(r.out, 'app')!['livenessProbe'], probe);
  assert.match(r.warnings.join('\n'), /path "\/a b" cannot be forwarded by the sidecar/);
});
