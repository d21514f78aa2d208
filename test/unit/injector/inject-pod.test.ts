/**
 * injectPod: opt-in rules, idempotency, each injected piece, overrides by
 * annotation, and refusals. Every case applies the generated patch with
 * applyJsonPatch and inspects the result, so a patch that does not apply
 * fails the test too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, injectPod, type JsonObject } from '../../../sidecar/injector/index.ts';
import { InjectorError } from '../../../sidecar/injector/injector-error.ts';
import { container, env, pod, settings } from './fixtures.ts';

const S = settings();
const inject = (p: JsonObject, namespaceLabels: Record<string, string> = {}) => injectPod(p, { settings: S, namespaceLabels });
const injected = (p: JsonObject, namespaceLabels: Record<string, string> = {}): JsonObject => {
  const r = inject(p, namespaceLabels);
  assert.equal(r.patched, true, r.reason);
  return applyJsonPatch(p, r.patch);
};
const annotations = (p: JsonObject): Record<string, string> => ((p['metadata'] as JsonObject)['annotations'] ?? {}) as Record<string, string>;
const initArgs = (p: JsonObject): string[] => (container(p, 'spiffe-sidecar-init')?.['args'] ?? []) as string[];

const enabled = { 'spiffe-sidecar.io/inject': 'enabled' };
const optInRows: { name: string; ann: Record<string, string> | null; ns: Record<string, string>; patched: boolean; reason: RegExp }[] = [
  { name: 'pod annotation "true" opts in', ann: { 'spiffe-sidecar.io/inject': 'true' }, ns: {}, patched: true, reason: /opted in by annotation/ },
  { name: 'namespace label enabled opts in', ann: null, ns: enabled, patched: true, reason: /namespace label/ },
  { name: 'pod annotation "false" wins over the namespace label', ann: { 'spiffe-sidecar.io/inject': 'false' }, ns: enabled, patched: false, reason: /opted out/ },
  { name: 'no annotation, no label: not injected', ann: null, ns: {}, patched: false, reason: /not opted in/ },
  { name: 'namespace label other than enabled does not opt in', ann: null, ns: { 'spiffe-sidecar.io/inject': 'disabled' }, patched: false, reason: /not opted in/ },
  { name: 'other annotations do not opt in', ann: { 'sidecar.istio.io/inject': 'true' }, ns: {}, patched: false, reason: /not opted in/ },
];
for (const r of optInRows) {
  test(`opt-in and opt-out: ${r.name}`, () => {
    const res = inject(pod({ annotations: r.ann }), r.ns);
    assert.equal(res.patched, r.patched);
    assert.match(res.reason, r.reason);
    if (!r.patched) assert.deepEqual(res.patch, []);
  });
}
for (const value of ['yes', 'True', 'enabled', '']) {
  test(`opt-in and opt-out: annotation value ${JSON.stringify(value)} is refused, not guessed`, () => {
    assert.throws(() => inject(pod({ annotations: { 'spiffe-sidecar.io/inject': value } }), enabled), (e: InjectorError) => e.code === 'injector.annotation_invalid');
  });
}
test('opt-in and opt-out: hostNetwork pods are skipped with the reason and a warning', () => {
  const res = inject(pod({ spec: { hostNetwork: true } }));
  assert.equal(res.patched, false);
  assert.match(res.reason, /hostNetwork/);
  assert.match(res.warnings.join('\n'), /hostNetwork/);
});

test('idempotency: an injected pod is left unchanged', () => {
  const once = injected(pod());
  const again = inject(once);
  assert.equal(again.patched, false);
  assert.match(again.reason, /already injected/);
  assert.deepEqual(again.patch, []);
});
test('idempotency: the status annotation alone marks a pod as injected', () => {
  const p = pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/status': '{}' } });
  assert.equal(inject(p).patched, false);
});
test('idempotency: a container named spiffe-sidecar alone marks a pod as injected', () => {
  const p = pod({ containers: [{ name: 'app', image: 'a' }, { name: 'spiffe-sidecar', image: 'b' }] });
  assert.equal(inject(p).patched, false);
});
test('idempotency: a fallback-injected pod is left unchanged too', () => {
  const once = injected(pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/native-sidecar': 'false' } }));
  assert.equal(inject(once).patched, false);
});
test('idempotency: injectPod does not modify its input', () => {
  const p = pod();
  const copy = structuredClone(p);
  inject(p);
  assert.deepEqual(p, copy);
});

const out = injected(pod());
const spec = out['spec'] as JsonObject;
const inits = spec['initContainers'] as JsonObject[];
const sidecar = container(out, 'spiffe-sidecar')!;
const init = container(out, 'spiffe-sidecar-init')!;

test('what gets injected (native sidecar, defaults): init order: iptables init, then the native sidecar', () => {
  assert.deepEqual(inits.map((c) => c['name']), ['spiffe-sidecar-init', 'spiffe-sidecar']);
  assert.deepEqual((spec['containers'] as JsonObject[]).map((c) => c['name']), ['app']);
});
test('what gets injected (native sidecar, defaults): the sidecar is a native sidecar with a startupProbe on /readyz', () => {
  assert.equal(sidecar['restartPolicy'], 'Always');
  assert.deepEqual((sidecar['startupProbe'] as JsonObject)['httpGet'], { path: '/readyz', port: 15020, scheme: 'HTTP' });
  assert.deepEqual((sidecar['livenessProbe'] as JsonObject)['httpGet'], { path: '/healthz', port: 15020, scheme: 'HTTP' });
  assert.deepEqual((sidecar['readinessProbe'] as JsonObject)['httpGet'], { path: '/readyz', port: 15020, scheme: 'HTTP' });
  assert.equal(sidecar['lifecycle'], undefined);
});
test('what gets injected (native sidecar, defaults): the sidecar image and arguments', () => {
  assert.equal(sidecar['image'], 'spiffe-sidecar:0.1.0');
  assert.deepEqual(sidecar['args'], ['run']);
});
test('what gets injected (native sidecar, defaults): the sidecar securityContext is locked down and runs as the excluded uid', () => {
  assert.deepEqual(sidecar['securityContext'], {
    runAsNonRoot: true,
    runAsUser: 1337,
    runAsGroup: 1337,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
});
test('what gets injected (native sidecar, defaults): default resources', () => {
  assert.deepEqual(sidecar['resources'], { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } });
});
test('what gets injected (native sidecar, defaults): the Workload API socket: CSI volume, read-only mount, SPIFFE_ENDPOINT_SOCKET', () => {
  assert.deepEqual((spec['volumes'] as JsonObject[])[0], { name: 'spiffe-sidecar-workload-api', csi: { driver: 'csi.spiffe.io', readOnly: true } });
  assert.deepEqual((sidecar['volumeMounts'] as JsonObject[])[0], { name: 'spiffe-sidecar-workload-api', mountPath: '/spiffe-workload-api', readOnly: true });
  assert.equal(env(sidecar, 'SPIFFE_ENDPOINT_SOCKET'), 'unix:///spiffe-workload-api/spire-agent.sock');
});
test('what gets injected (native sidecar, defaults): inbound proxy env: dual-stack listener and the app on loopback', () => {
  assert.equal(env(sidecar, 'SPIFFE_SIDECAR_INBOUND_LISTEN'), '[::]:15006');
  assert.equal(env(sidecar, 'SPIFFE_SIDECAR_APP_ADDRESS'), '127.0.0.1:8080');
  assert.equal(env(sidecar, 'SPIFFE_SIDECAR_ADMIN_LISTEN'), '[::]:15020');
  assert.equal(env(sidecar, 'SPIFFE_SIDECAR_POLICY_FILE'), undefined);
  assert.equal(env(sidecar, 'SPIFFE_SIDECAR_LOG_LEVEL'), undefined);
});
test('what gets injected (native sidecar, defaults): the init container runs iptables as root with NET_ADMIN and NET_RAW only', () => {
  assert.equal(init['image'], 'spiffe-sidecar:0.1.0');
  assert.deepEqual(init['securityContext'], {
    runAsUser: 0,
    runAsGroup: 0,
    runAsNonRoot: false,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  assert.equal(init['restartPolicy'], undefined);
});
test('what gets injected (native sidecar, defaults): outbound is intercepted by default, in transparent mode without a config file', () => {
  assert.equal(env(sidecar, 'SPIFFE_SIDECAR_OUTBOUND_LISTEN'), '[::]:15001', 'dual-stack: ip6tables redirects to ::1');
  assert.equal(env(sidecar, 'SPIFFE_SIDECAR_TRANSPARENT'), 'true');
});
test('what gets injected (native sidecar, defaults): the init container captures the app port and outbound, both families', () => {
  assert.deepEqual(init['args'], [
    'iptables', 'apply', '--proxy-uid=1337', '--inbound-port=15006', '--outbound-port=15001', '--admin-port=15020',
    '--inbound-ports=8080',
  ]);
});
test('what gets injected (native sidecar, defaults): Prometheus scrape annotations and the status annotation', () => {
  const a = annotations(out);
  assert.equal(a['prometheus.io/scrape'], 'true');
  assert.equal(a['prometheus.io/port'], '15020');
  assert.equal(a['prometheus.io/path'], '/metrics');
  assert.deepEqual(JSON.parse(a['spiffe-sidecar.io/status']!), {
    version: 1,
    native: true,
    initContainers: ['spiffe-sidecar-init', 'spiffe-sidecar'],
    containers: [],
    volumes: ['spiffe-sidecar-workload-api'],
  });
});
test('what gets injected (native sidecar, defaults): the sidecar declares its ports', () => {
  assert.deepEqual(sidecar['ports'], [
    { name: 'spiffe-inbound', containerPort: 15006, protocol: 'TCP' },
    { name: 'spiffe-admin', containerPort: 15020, protocol: 'TCP' },
  ]);
});

const fallbackOut = injected(pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', 'spiffe-sidecar.io/native-sidecar': 'false' } }));
const fallbackSpec = fallbackOut['spec'] as JsonObject;
const first = (fallbackSpec['containers'] as JsonObject[])[0]!;
test('fallback for clusters without native sidecars: the sidecar is the first regular container, the init container stays an init container', () => {
  assert.deepEqual((fallbackSpec['containers'] as JsonObject[]).map((c) => c['name']), ['spiffe-sidecar', 'app']);
  assert.deepEqual((fallbackSpec['initContainers'] as JsonObject[]).map((c) => c['name']), ['spiffe-sidecar-init']);
});
test('fallback for clusters without native sidecars: a postStart hook waits for /readyz; no restartPolicy, no startupProbe', () => {
  assert.equal(first['restartPolicy'], undefined);
  assert.equal(first['startupProbe'], undefined);
  const cmd = (((first['lifecycle'] as JsonObject)['postStart'] as JsonObject)['exec'] as JsonObject)['command'] as string[];
  assert.equal(cmd[0], 'node');
  assert.match(cmd[2]!, /\/readyz/);
  assert.match(cmd[2]!, /15020/);
});
test('fallback for clusters without native sidecars: the settings default can be the fallback too', () => {
  const r = injectPod(pod(), { settings: settings({ nativeSidecar: false }) });
  const o = applyJsonPatch(pod(), r.patch);
  assert.equal(((o['spec'] as JsonObject)['containers'] as JsonObject[])[0]!['name'], 'spiffe-sidecar');
});

const withAnn = (extra: Record<string, string>, containers?: JsonObject[]) =>
  pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', ...extra }, ...(containers ? { containers } : {}) });

test('annotation overrides: hostpath Workload API socket', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/workload-socket': 'hostpath' }));
  assert.deepEqual(((out['spec'] as JsonObject)['volumes'] as JsonObject[])[0], {
    name: 'spiffe-sidecar-workload-api',
    hostPath: { path: '/run/spire/agent-sockets', type: 'Directory' },
  });
});
test('annotation overrides: policy ConfigMap: volume, mount and SPIFFE_SIDECAR_POLICY_FILE', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/policy-configmap': 'backend-policy' }));
  const vols = (out['spec'] as JsonObject)['volumes'] as JsonObject[];
  assert.deepEqual(vols[1], { name: 'spiffe-sidecar-policy', configMap: { name: 'backend-policy', items: [{ key: 'policy.yaml', path: 'policy.yaml' }] } });
  const sc = container(out, 'spiffe-sidecar')!;
  assert.deepEqual((sc['volumeMounts'] as JsonObject[])[1], { name: 'spiffe-sidecar-policy', mountPath: '/etc/spiffe-sidecar/policy', readOnly: true });
  assert.equal(env(sc, 'SPIFFE_SIDECAR_POLICY_FILE'), '/etc/spiffe-sidecar/policy/policy.yaml');
});
test('annotation overrides: config ConfigMap: --config, outbound listener and outbound capture', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/config-configmap': 'frontend-sidecar' }));
  const sc = container(out, 'spiffe-sidecar')!;
  assert.deepEqual(sc['args'], ['run', '--config', '/etc/spiffe-sidecar/config/sidecar.yaml']);
  assert.equal(env(sc, 'SPIFFE_SIDECAR_OUTBOUND_LISTEN'), '[::]:15001');
  assert.ok(!initArgs(out).includes('--no-outbound'));
});
test('annotation overrides: intercept-outbound "false" keeps outbound off even with a config', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/config-configmap': 'c', 'spiffe-sidecar.io/intercept-outbound': 'false' }));
  assert.ok(initArgs(out).includes('--no-outbound'));
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_OUTBOUND_LISTEN'), undefined);
});
test('annotation overrides: intercept-outbound "true" without a config: transparent outbound', () => {
  const p = withAnn({ 'spiffe-sidecar.io/intercept-outbound': 'true' });
  const sc = container(applyJsonPatch(p, inject(p).patch), 'spiffe-sidecar');
  assert.equal(env(sc, 'SPIFFE_SIDECAR_TRANSPARENT'), 'true');
  assert.equal(env(sc, 'SPIFFE_SIDECAR_OUTBOUND_LISTEN'), '[::]:15001');
});
test('annotation overrides: intercept-outbound "false" without a config: no outbound proxy, no transparent mode', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/intercept-outbound': 'false' }));
  const sc = container(out, 'spiffe-sidecar');
  assert.equal(env(sc, 'SPIFFE_SIDECAR_TRANSPARENT'), undefined);
  assert.equal(env(sc, 'SPIFFE_SIDECAR_OUTBOUND_LISTEN'), undefined);
  assert.ok(initArgs(out).includes('--no-outbound'));
});
test('annotation overrides: ipv6 "false": IPv4 listeners, outbound on loopback, --no-ipv6 for the init container', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/ipv6': 'false' }));
  const sc = container(out, 'spiffe-sidecar');
  assert.equal(env(sc, 'SPIFFE_SIDECAR_INBOUND_LISTEN'), '0.0.0.0:15006');
  assert.equal(env(sc, 'SPIFFE_SIDECAR_ADMIN_LISTEN'), '0.0.0.0:15020');
  assert.equal(env(sc, 'SPIFFE_SIDECAR_OUTBOUND_LISTEN'), '127.0.0.1:15001');
  assert.ok(initArgs(out).includes('--no-ipv6'));
});
test('annotation overrides: the settings can turn IPv6 off for every pod', () => {
  const p = withAnn({});
  const out = applyJsonPatch(p, injectPod(p, { settings: settings({ ipv6: false }) }).patch);
  assert.ok(initArgs(out).includes('--no-ipv6'));
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_INBOUND_LISTEN'), '0.0.0.0:15006');
});
test('annotation overrides: ipv6 "true" overrides settings that turned it off', () => {
  const p = withAnn({ 'spiffe-sidecar.io/ipv6': 'true' });
  const out = applyJsonPatch(p, injectPod(p, { settings: settings({ ipv6: false }) }).patch);
  assert.ok(!initArgs(out).includes('--no-ipv6'));
});
test('annotation overrides: IPv6 CIDRs go to the init container beside IPv4 ones; a bare address gets /128', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/exclude-outbound-cidrs': '10.96.0.0/12,FD00:10:96::/112,fd00::1' }));
  assert.ok(initArgs(out).includes('--exclude-outbound-cidrs=10.96.0.0/12,fd00:10:96::/112,fd00::1/128'));
});
test('annotation overrides: with a config file, transparent mode is left to the file', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/config-configmap': 'c' }));
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_TRANSPARENT'), undefined);
});
test('annotation overrides: log level', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/log-level': 'debug' }));
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_LOG_LEVEL'), 'debug');
});
test('annotation overrides: resources', () => {
  const out = injected(withAnn({
    'spiffe-sidecar.io/cpu-request': '100m', 'spiffe-sidecar.io/memory-request': '96Mi',
    'spiffe-sidecar.io/cpu-limit': '1', 'spiffe-sidecar.io/memory-limit': '256Mi',
  }));
  assert.deepEqual(container(out, 'spiffe-sidecar')!['resources'], { requests: { cpu: '100m', memory: '96Mi' }, limits: { cpu: '1', memory: '256Mi' } });
});
test('annotation overrides: inbound ports, app port and exclusions go to the init container', () => {
  const out = injected(withAnn({
    'spiffe-sidecar.io/inbound-ports': '*',
    'spiffe-sidecar.io/app-port': '9000',
    'spiffe-sidecar.io/exclude-inbound-ports': '22,9100',
    'spiffe-sidecar.io/config-configmap': 'c',
    'spiffe-sidecar.io/exclude-outbound-ports': '5432',
    'spiffe-sidecar.io/exclude-outbound-cidrs': '10.96.0.0/12,169.254.169.254',
  }));
  assert.deepEqual(initArgs(out).slice(6), [
    '--inbound-ports=*', '--exclude-inbound-ports=22,9100',
    '--exclude-outbound-ports=5432', '--exclude-outbound-cidrs=10.96.0.0/12,169.254.169.254/32',
  ]);
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_APP_ADDRESS'), '127.0.0.1:9000');
});
test('annotation overrides: the first listed inbound port is the app port', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/inbound-ports': '9090,8080' }));
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_APP_ADDRESS'), '127.0.0.1:9090');
  assert.ok(initArgs(out).includes('--inbound-ports=9090,8080'));
});
test('annotation overrides: settings-wide exclusions are merged with the pod\'s', () => {
  const r = injectPod(withAnn({ 'spiffe-sidecar.io/config-configmap': 'c', 'spiffe-sidecar.io/exclude-outbound-ports': '5432' }), {
    settings: settings({ excludeOutboundPorts: [53], excludeOutboundCidrs: ['10.96.0.0/12'] }),
  });
  const out = applyJsonPatch(withAnn({}), r.patch);
  assert.ok(initArgs(out).includes('--exclude-outbound-ports=53,5432'));
  assert.ok(initArgs(out).includes('--exclude-outbound-cidrs=10.96.0.0/12'));
});
test('annotation overrides: a pod without ports still gets outbound capture (no inbound proxy)', () => {
  const out = injected(withAnn({}, [{ name: 'worker', image: 'w' }]));
  assert.deepEqual(initArgs(out).slice(6), ['--inbound-ports=']);
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_TRANSPARENT'), 'true');
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_INBOUND_LISTEN'), undefined);
});
test('annotation overrides: a pod without ports and without outbound gets no init container and no inbound proxy', () => {
  const out = injected(withAnn({ 'spiffe-sidecar.io/intercept-outbound': 'false' }, [{ name: 'worker', image: 'w' }]));
  assert.equal(container(out, 'spiffe-sidecar-init'), undefined);
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_INBOUND_LISTEN'), undefined);
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_APP_ADDRESS'), undefined);
});
test('annotation overrides: UDP container ports are not app ports', () => {
  const out = injected(withAnn({}, [{ name: 'dns', image: 'd', ports: [{ containerPort: 53, protocol: 'UDP' }] }]));
  assert.ok(initArgs(out).includes('--inbound-ports='));
  assert.equal(env(container(out, 'spiffe-sidecar'), 'SPIFFE_SIDECAR_APP_ADDRESS'), undefined);
});
test('annotation overrides: multi-port capture without a config file: each port reaches its own app port, no warning', () => {
  const r = inject(withAnn({ 'spiffe-sidecar.io/inbound-ports': '8080,9090' }));
  assert.doesNotMatch(r.warnings.join('\n'), /forwarded to app port/);
  assert.equal(env(container(injected(withAnn({ 'spiffe-sidecar.io/inbound-ports': '8080,9090' })), 'spiffe-sidecar'), 'SPIFFE_SIDECAR_INBOUND_TRANSPARENT'), 'true');
});
test('annotation overrides: multi-port capture with a config file warns that all ports go to the app port unless it is transparent', () => {
  const r = inject(withAnn({ 'spiffe-sidecar.io/inbound-ports': '8080,9090', 'spiffe-sidecar.io/config-configmap': 'cfg' }));
  assert.match(r.warnings.join('\n'), /forwarded to app port 8080 unless the config file sets inbound.transparent/);
});

const invalid: [string, Record<string, string>, RegExp][] = [
  ['native-sidecar not a boolean', { 'spiffe-sidecar.io/native-sidecar': 'no' }, /native-sidecar/],
  ['unknown socket type', { 'spiffe-sidecar.io/workload-socket': 'tcp' }, /workload-socket/],
  ['inbound port out of range', { 'spiffe-sidecar.io/inbound-ports': '8080,70000' }, /inbound-ports.*70000/],
  ['inbound port not a number', { 'spiffe-sidecar.io/inbound-ports': 'http' }, /inbound-ports/],
  ['inbound port is the sidecar\'s own', { 'spiffe-sidecar.io/inbound-ports': '15006' }, /own ports/],
  ['app port is the sidecar\'s admin port', { 'spiffe-sidecar.io/app-port': '15020' }, /own ports/],
  ['exclude-outbound-ports garbage', { 'spiffe-sidecar.io/exclude-outbound-ports': '53;80' }, /exclude-outbound-ports/],
  ['IPv6 CIDR prefix too long', { 'spiffe-sidecar.io/exclude-outbound-cidrs': 'fd00::/129' }, /prefix length out of range \(0-128\)/],
  ['IPv6 CIDR that is no address', { 'spiffe-sidecar.io/exclude-outbound-cidrs': 'fd00:::1/64' }, /not an IPv6 address/],
  ['IPv6 CIDR with a zone', { 'spiffe-sidecar.io/exclude-outbound-cidrs': 'fe80::1%eth0' }, /not an IPv6 address/],
  ['ipv6 not a boolean', { 'spiffe-sidecar.io/ipv6': 'dual' }, /spiffe-sidecar.io\/ipv6/],
  ['CIDR prefix too long', { 'spiffe-sidecar.io/exclude-outbound-cidrs': '10.0.0.0/33' }, /prefix length/],
  ['octet out of range', { 'spiffe-sidecar.io/exclude-outbound-cidrs': '10.0.0.256' }, /octet/],
  ['ConfigMap name with capitals', { 'spiffe-sidecar.io/policy-configmap': 'My_Policy' }, /ConfigMap name/],
  ['log level', { 'spiffe-sidecar.io/log-level': 'loud' }, /log-level/],
  ['quantity', { 'spiffe-sidecar.io/memory-limit': '128MB' }, /quantity/],
  ['request above limit', { 'spiffe-sidecar.io/cpu-request': '2', 'spiffe-sidecar.io/cpu-limit': '500m' }, /above the cpu limit/],
  ['intercept-outbound not a boolean', { 'spiffe-sidecar.io/intercept-outbound': 'yes' }, /intercept-outbound/],
];
for (const [name, extra, message] of invalid) {
  test(`annotation overrides: refuses: ${name}`, () => {
    assert.throws(
      () => inject(withAnn(extra)),
      (e: InjectorError) => e.code === 'injector.annotation_invalid' && message.test(e.message),
    );
  });
}
test('annotation overrides: "*" without an app port to forward to is refused', () => {
  assert.throws(() => inject(withAnn({ 'spiffe-sidecar.io/inbound-ports': '*' }, [{ name: 'w', image: 'w' }])), /needs spiffe-sidecar.io\/app-port/);
});
test('annotation overrides: a policy without an app port is refused', () => {
  assert.throws(() => inject(withAnn({ 'spiffe-sidecar.io/policy-configmap': 'p' }, [{ name: 'w', image: 'w' }])), /no app port/);
});
test('annotation overrides: all problems are reported at once', () => {
  try {
    inject(withAnn({ 'spiffe-sidecar.io/log-level': 'loud', 'spiffe-sidecar.io/native-sidecar': 'no' }));
    assert.fail('expected a refusal');
  } catch (e) {
    assert.equal((e as InjectorError).problems.length, 2);
  }
});

test('warnings and conflicts: existing prometheus.io annotations are kept, with a warning', () => {
  const p = pod({ annotations: { 'spiffe-sidecar.io/inject': 'true', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' } });
  const r = inject(p);
  const out = applyJsonPatch(p, r.patch);
  assert.equal(annotations(out)['prometheus.io/port'], '9090');
  assert.equal(annotations(out)['prometheus.io/path'], undefined);
  assert.match(r.warnings.join('\n'), /prometheus\.io/);
});
test('warnings and conflicts: an app container running as the proxy uid is warned about', () => {
  const r = inject(pod({ containers: [{ name: 'app', image: 'a', securityContext: { runAsUser: 1337 } }] }));
  assert.match(r.warnings.join('\n'), /bypasses the sidecar/);
});
test('warnings and conflicts: a pod-level runAsUser of the proxy uid is warned about', () => {
  const r = inject(pod({ spec: { securityContext: { runAsUser: 1337 } } }));
  assert.match(r.warnings.join('\n'), /bypasses the sidecar/);
});
const clashes: [string, JsonObject, RegExp][] = [
  ['a volume with the injector\'s name', { volumes: [{ name: 'spiffe-sidecar-workload-api', emptyDir: {} }] }, /volume is already named/],
  ['an init container with the injector\'s name', { initContainers: [{ name: 'spiffe-sidecar-init', image: 'x' }] }, /already named spiffe-sidecar-init/],
];
for (const [name, spec, message] of clashes) {
  test(`warnings and conflicts: refuses ${name}`, () => {
    assert.throws(() => inject(pod({ spec })), (e: InjectorError) => e.code === 'injector.name_conflict' && message.test(e.message));
  });
}
test('warnings and conflicts: refuses an app that declares one of the sidecar ports', () => {
  const p = pod({ containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 15020 }] }] });
  assert.throws(() => inject(p), (e: InjectorError) => e.code === 'injector.name_conflict' && /15020/.test(e.message));
});

const malformedRows: [string, unknown, RegExp][] = [
  ['not an object', 'pod', /must be an object/],
  ['no spec', { metadata: { annotations: { 'spiffe-sidecar.io/inject': 'true' } } }, /spec must be an object/],
  ['containers not a list', { spec: { containers: {} } }, /spec\.containers must be a list/],
  ['no containers', { spec: { containers: [] } }, /non-empty list/],
  ['container without a name', { spec: { containers: [{ image: 'x' }] } }, /name must be a non-empty string/],
  ['annotation value not a string', { metadata: { annotations: { a: 1 } }, spec: { containers: [{ name: 'a' }] } }, /annotations must be a map of strings/],
  ['metadata not an object', { metadata: [], spec: { containers: [{ name: 'a' }] } }, /metadata must be an object/],
];
for (const [name, obj, message] of malformedRows) {
  test(`malformed pods: refuses ${name}`, () => {
    assert.throws(() => injectPod(obj, { settings: S }), (e: InjectorError) => e.code === 'injector.object_invalid' && message.test(e.message));
  });
}
