/**
 * The kustomizations under k8s/ rendered with `kubectl kustomize` and
 * checked without a cluster: every object against the Kubernetes schemas
 * (types and unknown fields), the ClusterSPIFFEID against the CRD we ship,
 * references between objects, the SPIRE settings that must agree across
 * files, the demo's sidecar config and policy with the project's own
 * parsers, and the Prometheus config with promtool.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as yamlParse } from 'yaml';
import { loadConfigText } from '../../../sidecar/config/index.ts';
import { injectionSettings, injectWorkload, WEBHOOK_PATHS } from '../../../sidecar/injector/index.ts';
import { loadPolicyText } from '../../../sidecar/policy/index.ts';
import { requireTools } from '../../support/tools.ts';
import { builtinProblems, describeObject, hasModel, validateAgainstCrd, type K8sObject } from '../../support/k8s-schemas.ts';
import { render, ROOT } from '../../support/kustomize.ts';

const run = promisify(execFile);
// Rendered manifests are walked loosely; the schema tests above check their shape.
type Obj = Record<string, any>;

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = `spiffe-sidecar:${VERSION}`;
/** Created by k8s/overlays/kind/webhook-cert.sh (or cert-manager), never shipped. */
const EXTERNAL_SECRETS = new Set(['spiffe-sidecar-system/spiffe-sidecar-injector-tls']);

const byKind = (objs: K8sObject[], kind: string): Obj[] => objs.filter((o) => o.kind === kind) as Obj[];
const find = (objs: K8sObject[], kind: string, name: string, ns?: string): Obj | undefined =>
  byKind(objs, kind).find((o) => o.metadata.name === name && (ns === undefined || o.metadata.namespace === ns));
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'];
const workloads = (objs: K8sObject[]): Obj[] => objs.filter((o) => WORKLOAD_KINDS.includes(o.kind)) as Obj[];
const containersOf = (w: Obj): Obj[] => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers];

/** Evaluates a LabelSelector against labels (matchLabels and the four operators). */
function selects(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values as string[]).includes(labels[e.key]!);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** The value of `key = "value"` in SPIRE's HCL (first occurrence). */
function hcl(text: string, key: string): string {
  const m = new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, 'm').exec(text);
  assert.ok(m, `${key} not found`);
  return m[1]!;
}

/** Builtin objects: schema validation and the strict unknown-field check. */
async function checkBuiltins(t: TestContext, objs: K8sObject[]): Promise<void> {
  const builtin = objs.filter(hasModel);
  assert.deepEqual(await builtinProblems(builtin), []);
  t.diagnostic(`${builtin.length} objects valid against the Kubernetes schemas`);
}

test('k8s/overlays/kind', async (t) => {
  if (!requireTools(t, ['kubectl'])) return;
  const objs = await render('overlays/kind');
  const crds = byKind(objs, 'CustomResourceDefinition');

  await t.test('renders objects of known kinds only', () => {
    assert.ok(objs.length > 30, `only ${objs.length} objects`);
    const unknown = objs.filter((o) => !hasModel(o) && !crds.some((c) => c.spec.names.kind === o.kind));
    assert.deepEqual(unknown.map(describeObject), []);
  });

  await t.test('built-in objects validate (types and unknown fields)', async (tt) => {
    await checkBuiltins(tt, objs);
  });

  await t.test('custom resources validate against the shipped CRD', () => {
    const crs = objs.filter((o) => !hasModel(o));
    assert.ok(crs.length > 0);
    for (const o of crs) {
      const crd = crds.find((c) => c.spec.names.kind === o.kind)! as K8sObject;
      assert.deepEqual(validateAgainstCrd(o, crd), []);
    }
  });

  await t.test('namespaced objects live in namespaces that are shipped', () => {
    const namespaces = new Set(byKind(objs, 'Namespace').map((n) => n.metadata.name));
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'CSIDriver', 'MutatingWebhookConfiguration', 'ClusterSPIFFEID']);
    for (const o of objs) {
      if (clusterScoped.has(o.kind)) assert.equal(o.metadata?.namespace, undefined, describeObject(o));
      else assert.ok(namespaces.has(o.metadata?.namespace ?? ''), `${describeObject(o)}: namespace not shipped`);
    }
  });

  await t.test('workloads: selectors, service accounts, volumes, images', () => {
    for (const w of workloads(objs)) {
      const ns = w.metadata.namespace;
      const where = describeObject(w as K8sObject);
      assert.ok(selects(w.spec.selector, w.spec.template.metadata.labels), `${where}: selector does not match the template`);
      const sa = w.spec.template.spec.serviceAccountName;
      assert.ok(sa && find(objs, 'ServiceAccount', sa, ns), `${where}: service account ${sa} not shipped`);
      for (const v of w.spec.template.spec.volumes ?? []) {
        if (v.configMap) assert.ok(find(objs, 'ConfigMap', v.configMap.name, ns), `${where}: ConfigMap ${v.configMap.name} not shipped`);
        if (v.secret) assert.ok(EXTERNAL_SECRETS.has(`${ns}/${v.secret.secretName}`), `${where}: Secret ${v.secret.secretName} unknown`);
      }
      for (const c of containersOf(w)) {
        assert.match(c.image, /^[^:@]+(:[A-Za-z0-9._-]+)$/, `${where}: ${c.image} has no tag`);
        assert.doesNotMatch(c.image, /:latest$/, `${where}: ${c.image} uses latest`);
        if (c.image.startsWith('spiffe-sidecar:')) assert.equal(c.image, IMAGE, `${where}: not this release's image`);
        const mounts = new Set((w.spec.template.spec.volumes ?? []).map((v: Obj) => v.name));
        for (const m of c.volumeMounts ?? []) {
          assert.ok(mounts.has(m.name) || (w.spec.volumeClaimTemplates ?? []).some((p: Obj) => p.metadata.name === m.name), `${where}: mount ${m.name} has no volume`);
        }
      }
    }
  });

  await t.test('services select a workload and name its ports', () => {
    for (const s of byKind(objs, 'Service')) {
      const target = workloads(objs).find((w) => w.metadata.namespace === s.metadata.namespace && selects({ matchLabels: s.spec.selector }, w.spec.template.metadata.labels));
      assert.ok(target, `${describeObject(s as K8sObject)}: selects no workload`);
      const ports = new Set(containersOf(target).flatMap((c) => (c.ports ?? []).map((p: Obj) => p.name)));
      for (const p of s.spec.ports) if (typeof p.targetPort === 'string') assert.ok(ports.has(p.targetPort), `${s.metadata.name}: targetPort ${p.targetPort}`);
    }
  });

  await t.test('RBAC bindings point at shipped roles and service accounts', () => {
    for (const b of [...byKind(objs, 'RoleBinding'), ...byKind(objs, 'ClusterRoleBinding')]) {
      const role = find(objs, b.roleRef.kind, b.roleRef.name, b.roleRef.kind === 'Role' ? b.metadata.namespace : undefined);
      assert.ok(role, `${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} not shipped`);
      for (const s of b.subjects) assert.ok(find(objs, 'ServiceAccount', s.name, s.namespace), `${b.metadata.name}: subject ${s.namespace}/${s.name}`);
    }
  });

  await t.test('the mutating webhook: service, paths, and which namespaces each entry selects', () => {
    const mwc = byKind(objs, 'MutatingWebhookConfiguration');
    assert.equal(mwc.length, 1);
    const hooks = mwc[0]!.webhooks as Obj[];
    assert.deepEqual(hooks.map((h) => h.clientConfig.service.path).sort(), [WEBHOOK_PATHS.inject, WEBHOOK_PATHS.injectNamespaceEnabled].sort());
    for (const h of hooks) {
      const svc = find(objs, 'Service', h.clientConfig.service.name, h.clientConfig.service.namespace);
      assert.ok(svc && svc.spec.ports.some((p: Obj) => p.port === h.clientConfig.service.port), `service of ${h.name}`);
      assert.deepEqual(h.admissionReviewVersions, ['v1']);
      assert.equal(h.sideEffects, 'None');
      assert.deepEqual(h.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    }
    const selected = (ns: string): string[] => {
      const n = find(objs, 'Namespace', ns)!;
      const labels = { ...n.metadata.labels, 'kubernetes.io/metadata.name': ns };
      return hooks.filter((h) => selects(h.namespaceSelector, labels)).map((h) => h.clientConfig.service.path);
    };
    // The injector's and SPIRE's namespaces are never sent to the webhook: it must not wait for itself.
    assert.deepEqual(selected('spiffe-sidecar-system'), []);
    assert.deepEqual(selected('spire'), []);
    assert.deepEqual(selected('demo'), [WEBHOOK_PATHS.injectNamespaceEnabled]);
    assert.deepEqual(selected('monitoring'), [WEBHOOK_PATHS.inject]);
    const kubeSystem = { 'kubernetes.io/metadata.name': 'kube-system' };
    assert.deepEqual(hooks.filter((h) => selects(h.namespaceSelector, kubeSystem)), []);
  });

  await t.test('SPIRE settings agree across server, agent, controller manager and manifests', () => {
    const cm = (name: string): Obj => byKind(objs, 'ConfigMap').find((c) => c.metadata.namespace === 'spire' && c.metadata.name.startsWith(`${name}-`))!;
    const server = cm('spire-server').data['server.conf'] as string;
    const agent = cm('spire-agent').data['agent.conf'] as string;
    const manager = yamlParse(cm('spire-controller-manager').data['config.yaml'] as string) as Obj;
    const td = hcl(server, 'trust_domain');
    assert.equal(hcl(agent, 'trust_domain'), td);
    assert.equal(manager.trustDomain, td);
    // One cluster name everywhere: psat on both sides, bundle publisher, entries' parent IDs.
    const cluster = hcl(agent, 'cluster');
    assert.match(server, new RegExp(`NodeAttestor "k8s_psat"[\\s\\S]*?"${cluster}" = \\{\\s*service_account_allow_list = \\["spire:spire-agent"\\]`));
    assert.match(server, new RegExp(`BundlePublisher "k8s_configmap"[\\s\\S]*?"${cluster}" = \\{`));
    assert.equal(manager.clusterName, cluster);
    // The allowed agent service account is the DaemonSet's.
    const ds = find(objs, 'DaemonSet', 'spire-agent', 'spire')!;
    assert.equal(ds.spec.template.spec.serviceAccountName, 'spire-agent');
    assert.equal(ds.spec.template.spec.hostPID, true);
    // Bundle: published where the agent mounts it.
    assert.equal(hcl(server, 'configmap_name'), 'spire-bundle');
    assert.equal(hcl(server, 'namespace'), 'spire');
    assert.equal(hcl(server, 'format'), 'pem');
    const bundleVol = ds.spec.template.spec.volumes.find((v: Obj) => v.configMap?.name === 'spire-bundle');
    const bundleMount = ds.spec.template.spec.containers[0].volumeMounts.find((m: Obj) => m.name === bundleVol.name);
    assert.equal(hcl(agent, 'trust_bundle_path'), `${bundleMount.mountPath}/${hcl(server, 'configmap_key')}`);
    assert.ok(find(objs, 'ConfigMap', 'spire-bundle', 'spire'));
    // psat token: audience spire-server at the attestor's default path.
    const token = ds.spec.template.spec.volumes.find((v: Obj) => v.projected).projected.sources[0].serviceAccountToken;
    assert.equal(token.audience, 'spire-server');
    const tokenMount = ds.spec.template.spec.containers[0].volumeMounts.find((m: Obj) => m.name === 'token');
    assert.equal(`${tokenMount.mountPath}/${token.path}`, '/var/run/secrets/tokens/spire-agent');
    // The agent socket directory is the one the CSI driver serves.
    const socketDir = hcl(agent, 'socket_path').replace(/\/[^/]+$/, '');
    const agentHost = ds.spec.template.spec.volumes.find((v: Obj) => v.name === 'agent-sockets').hostPath.path;
    const csi = find(objs, 'DaemonSet', 'spiffe-csi-driver', 'spire')!;
    assert.equal(csi.spec.template.spec.volumes.find((v: Obj) => v.name === 'agent-sockets').hostPath.path, agentHost);
    assert.equal(socketDir, agentHost, 'agent socket_path is inside the shared host directory');
    const defaults = injectionSettings({ image: IMAGE });
    assert.equal(hcl(agent, 'socket_path'), `${defaults.hostSocketDir}/${defaults.socketFileName}`, 'the injector points pods at this socket');
    // Agent → server.
    assert.equal(hcl(agent, 'server_address'), 'spire-server.spire.svc');
    assert.ok(find(objs, 'Service', 'spire-server', 'spire')!.spec.ports.some((p: Obj) => String(p.port) === hcl(agent, 'server_port')));
    // Controller manager ↔ server admin socket.
    assert.equal(manager.spireServerSocketPath, hcl(server, 'socket_path'));
    assert.deepEqual(manager.reconcile, { clusterSPIFFEIDs: true, clusterFederatedTrustDomains: false, clusterStaticEntries: false });
    // Images pinned to SPIRE 1.15.3.
    const sts = find(objs, 'StatefulSet', 'spire-server', 'spire')!;
    assert.equal(sts.spec.template.spec.containers[0].image, 'ghcr.io/spiffe/spire-server:1.15.3');
    assert.equal(ds.spec.template.spec.containers[0].image, 'ghcr.io/spiffe/spire-agent:1.15.3');
  });

  await t.test('the kind agent.conf is the base one plus skip_kubelet_verification', () => {
    const strip = (s: string) => s.split('\n').filter((l) => !/^\s*#/.test(l) && !/skip_kubelet_verification/.test(l)).map((l) => l.replace(/\s+=\s+/, ' = ').trimEnd()).join('\n').trim();
    const base = readFileSync(join(ROOT, 'k8s/base/spire/agent.conf'), 'utf8');
    const kind = readFileSync(join(ROOT, 'k8s/overlays/kind/spire-agent.conf'), 'utf8');
    assert.equal(strip(kind), strip(base));
    assert.match(kind, /skip_kubelet_verification = true/);
    const rendered = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('spire-agent-'))!;
    assert.match(rendered.data['agent.conf'], /skip_kubelet_verification = true/);
  });

  await t.test('demo: the ClusterSPIFFEID, policy and sidecar config agree and parse', () => {
    const id = byKind(objs, 'ClusterSPIFFEID')[0]!;
    const template = id.spec.spiffeIDTemplate as string;
    const server = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('spire-server-'))!.data['server.conf'];
    const idOf = (ns: string, sa: string) => template.replace('{{ .TrustDomain }}', hcl(server, 'trust_domain')).replace('{{ .PodMeta.Namespace }}', ns).replace('{{ .PodSpec.ServiceAccountName }}', sa);
    assert.ok(selects(id.spec.namespaceSelector, { 'kubernetes.io/metadata.name': 'demo' }));
    assert.ok(!selects(id.spec.namespaceSelector, { 'kubernetes.io/metadata.name': 'spiffe-sidecar-system' }));

    const policyCm = find(objs, 'ConfigMap', 'backend-policy', 'demo')!;
    const policy = loadPolicyText(policyCm.data['policy.yaml'], 'backend-policy');
    assert.ok(policy);
    assert.match(policyCm.data['policy.yaml'], new RegExp(`id: ${idOf('demo', 'frontend').replaceAll('.', '\\.')}\\b`));

    const sidecarCm = find(objs, 'ConfigMap', 'frontend-sidecar', 'demo')!;
    // The environment the injector gives the frontend's sidecar.
    const frontend = find(objs, 'Deployment', 'frontend', 'demo')!;
    const injected = injectWorkload(frontend, { settings: injectionSettings({ image: IMAGE }), namespaceLabels: { 'spiffe-sidecar.io/inject': 'enabled' } });
    const sidecar = (injected.object as Obj).spec.template.spec.initContainers.find((c: Obj) => c.name === 'spiffe-sidecar');
    const env = Object.fromEntries(sidecar.env.map((e: Obj) => [e.name, e.value]));
    const config = loadConfigText(sidecarCm.data['sidecar.yaml'], env, 'frontend-sidecar');
    const upstream = config.outbound!.upstreams[0]!;
    assert.equal(JSON.stringify(upstream).includes(idOf('demo', 'backend')), true, 'frontend requires the backend\'s ID');
    assert.ok(find(objs, 'ServiceAccount', 'backend', 'demo') && find(objs, 'ServiceAccount', 'frontend', 'demo'));
    assert.deepEqual(sidecar.args, ['run', '--config', '/etc/spiffe-sidecar/config/sidecar.yaml']);
  });

  await t.test('demo workloads still validate after injection', async (tt) => {
    const settings = injectionSettings({ image: IMAGE });
    const injected = byKind(objs, 'Deployment')
      .filter((d) => d.metadata.namespace === 'demo')
      .map((d) => {
        const r = injectWorkload(d, { settings, namespaceLabels: { 'spiffe-sidecar.io/inject': 'enabled' } });
        assert.equal(r.patched, true);
        return r.object as K8sObject;
      });
    assert.equal(injected.length, 2);
    await checkBuiltins(tt, injected);
  });

  await t.test('the Prometheus config passes promtool', async (tt) => {
    if (!requireTools(tt, ['promtool'])) return;
    const dir = mkdtempSync(join(tmpdir(), 'promcfg-'));
    tt.after(() => rmSync(dir, { recursive: true, force: true }));
    const cm = byKind(objs, 'ConfigMap').find((c) => c.metadata.namespace === 'monitoring')!;
    const config = yamlParse(cm.data['prometheus.yml']) as Obj;
    const job = config.scrape_configs[0];
    assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'pod' }]);
    const sources = job.relabel_configs.flatMap((r: Obj) => r.source_labels ?? []);
    for (const a of ['scrape', 'port', 'path']) assert.ok(sources.includes(`__meta_kubernetes_pod_annotation_prometheus_io_${a}`), a);
    // Debian's promtool is built without Kubernetes service discovery, so
    // the discovery block is swapped for a static target; everything else
    // (relabel rules and their regexes) is checked as written.
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['127.0.0.1:15020'] }];
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
    const { stdout } = await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.match(stdout, /SUCCESS/);
  });
});

test('k8s/base renders on its own', async (t) => {
  if (!requireTools(t, ['kubectl'])) return;
  const objs = await render('base');
  assert.ok(!objs.some((o) => o.metadata?.namespace === 'demo'));
  assert.ok(byKind(objs, 'MutatingWebhookConfiguration').length === 1);
});
