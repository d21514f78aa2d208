/**
 * App probes: httpGet probes of captured ports go through the admin port
 * (/app-probe/<port>/<path>), originals are kept in an annotation, and
 * every other probe is left alone (with a warning where it will not work).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, injectPod, type JsonObject } from '../../../sidecar/injector/index.ts';
import { pod, settings } from './fixtures.ts';

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

describe('httpGet probes of captured ports are rewritten', () => {
  const rows: [string, JsonObject, string][] = [
    ['numeric port', { path: '/healthz', port: 8080 }, '/app-probe/8080/healthz'],
    ['named port resolved to its number', { path: '/healthz', port: 'http' }, '/app-probe/8080/healthz'],
    ['no path means /', { port: 8080 }, '/app-probe/8080/'],
    ['path without leading slash', { path: 'healthz', port: 8080 }, '/app-probe/8080/healthz'],
    ['query string kept', { path: '/health?full=1', port: 8080 }, '/app-probe/8080/health?full=1'],
    ['explicit HTTP scheme', { path: '/h', port: 8080, scheme: 'HTTP' }, '/app-probe/8080/h'],
  ];
  for (const [name, get, path] of rows) {
    it(name, () => {
      const r = run({ httpGet: get, periodSeconds: 7 });
      assert.deepEqual(r.probe, { httpGet: { path, port: 15020, scheme: 'HTTP' }, periodSeconds: 7 });
      assert.deepEqual(JSON.parse(r.originals!), { 'app/livenessProbe': get });
    });
  }
  it('custom headers are kept', () => {
    const headers = [{ name: 'X-Probe', value: '1' }];
    const r = run({ httpGet: { path: '/h', port: 8080, httpHeaders: headers } });
    assert.deepEqual((r.probe['httpGet'] as JsonObject)['httpHeaders'], headers);
  });
  it('readiness and startup probes too, and user native sidecars', () => {
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
});

describe('probes left unchanged', () => {
  const rows: [string, JsonObject, Record<string, string>, RegExp | null][] = [
    ['httpGet of a port that is not captured', { httpGet: { path: '/m', port: 9100 } }, {}, null],
    ['httpGet of an excluded port', { httpGet: { path: '/h', port: 8080 } }, { 'spiffe-sidecar.io/inbound-ports': '*', 'spiffe-sidecar.io/exclude-inbound-ports': '8080', 'spiffe-sidecar.io/app-port': '8080' }, null],
    ['httpGet to another host', { httpGet: { path: '/h', port: 8080, host: 'example.com' } }, {}, null],
    ['HTTPS httpGet (warned: it hits the mTLS listener)', { httpGet: { path: '/h', port: 8080, scheme: 'HTTPS' } }, {}, /HTTPS probe/],
    ['unknown named port (warned)', { httpGet: { path: '/h', port: 'nope' } }, {}, /not a declared port/],
    ['tcpSocket (warned: checks the sidecar, not the app)', { tcpSocket: { port: 8080 } }, {}, /tcpSocket/],
    ['grpc (warned: fails against mTLS)', { grpc: { port: 8080 } }, {}, /grpc probe/],
    ['exec (runs inside the container, loopback is never redirected)', { exec: { command: ['true'] } }, {}, null],
  ];
  for (const [name, probe, extra, warning] of rows) {
    it(name, () => {
      const r = run(probe, extra);
      assert.deepEqual(r.probe, probe);
      assert.equal(r.originals, undefined);
      if (warning) assert.match(r.warnings.join('\n'), warning);
      else assert.equal(r.warnings.filter((w) => /probe/i.test(w)).length, 0);
    });
  }
  it('with inbound-ports "*", any app port is captured, so its probe is rewritten', () => {
    const r = run({ httpGet: { path: '/m', port: 9100 } }, { 'spiffe-sidecar.io/inbound-ports': '*', 'spiffe-sidecar.io/app-port': '8080' });
    assert.equal((r.probe['httpGet'] as JsonObject)['path'], '/app-probe/9100/m');
  });
});
