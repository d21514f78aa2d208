/**
 * Whatever the injector produces is a valid Kubernetes object: every
 * workload kind, in native and fallback mode, with every optional piece
 * (hostPath socket, policy and config ConfigMaps, rewritten probes,
 * existing init containers and volumes), checked against the Kubernetes
 * schemas including unknown fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectionSettings, injectWorkload } from '../../../sidecar/injector/index.ts';
import { builtinProblems, describeObject, type K8sObject } from '../../support/k8s-schemas.ts';

const settings = injectionSettings({ image: 'spiffe-sidecar:0.1.0' });

function template(annotations: Record<string, string>, restartPolicy?: string): Record<string, unknown> {
  return {
    metadata: { labels: { app: 'web' }, annotations },
    spec: {
      ...(restartPolicy ? { restartPolicy } : {}),
      initContainers: [{ name: 'migrate', image: 'web:1', command: ['migrate'] }],
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [{
        name: 'web',
        image: 'web:1',
        ports: [{ name: 'http', containerPort: 8080 }],
        livenessProbe: { httpGet: { path: '/live', port: 'http', httpHeaders: [{ name: 'X-Probe', value: '1' }] } },
        readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
        startupProbe: { tcpSocket: { port: 8080 } },
      }],
    },
  };
}

function workloads(annotations: Record<string, string>): K8sObject[] {
  const meta = { name: 'web', namespace: 'demo' };
  const sel = { matchLabels: { app: 'web' } };
  return [
    { apiVersion: 'v1', kind: 'Pod', ...template(annotations), metadata: { ...meta, annotations } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta, spec: { selector: sel, template: template(annotations) } },
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta, spec: { serviceName: 'web', selector: sel, template: template(annotations) } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta, spec: { selector: sel, template: template(annotations) } },
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta, spec: { selector: sel, template: template(annotations) } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: meta, spec: { template: template(annotations, 'Never') } },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: template(annotations, 'OnFailure') } } } },
  ];
}

const variants: [string, Record<string, string>][] = [
  ['native sidecar, defaults', {}],
  ['fallback sidecar', { 'spiffe-sidecar.io/native-sidecar': 'false' }],
  ['hostPath socket, policy and config, outbound exclusions, resources, log level', {
    'spiffe-sidecar.io/workload-socket': 'hostpath',
    'spiffe-sidecar.io/policy-configmap': 'web-policy',
    'spiffe-sidecar.io/config-configmap': 'web-sidecar',
    'spiffe-sidecar.io/exclude-outbound-cidrs': '10.96.0.0/12',
    'spiffe-sidecar.io/exclude-outbound-ports': '5432',
    'spiffe-sidecar.io/cpu-limit': '1',
    'spiffe-sidecar.io/memory-request': '100Mi',
    'spiffe-sidecar.io/log-level': 'debug',
  }],
  ['all inbound ports', { 'spiffe-sidecar.io/inbound-ports': '*', 'spiffe-sidecar.io/exclude-inbound-ports': '9100' }],
];

test('injected workloads validate against the Kubernetes schemas', async (t) => {
  for (const [name, annotations] of variants) {
    await t.test(name, async () => {
      const injected = workloads({ 'spiffe-sidecar.io/inject': 'true', ...annotations }).map((w) => {
        const r = injectWorkload(w, { settings });
        assert.equal(r.patched, true, `${describeObject(w)}: ${r.reason}`);
        return r.object as K8sObject;
      });
      assert.deepEqual(await builtinProblems(injected), []);
    });
  }
});
