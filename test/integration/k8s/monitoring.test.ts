/**
 * The monitoring shipped in k8s/monitoring: the alerting rules (promtool
 * check and unit tests over synthetic series, the PrometheusRule copy),
 * the Grafana dashboard (layout, data source, PromQL validity, pod
 * filters, coverage of every sidecar metric), and their wiring into the
 * kind overlay. test/integration/monitoring checks the metric names
 * against a live sidecar's /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as yamlParse, stringify as yamlStringify } from 'yaml';
import { requireTools } from '../../support/tools.ts';
import {
  DASHBOARD_FILE, PROMETHEUS_RULE_FILE, RULES_FILE, RULES_TEST_FILE,
  dashboardQueries, loadDashboard, loadRules, ruleQueries, type DashboardPanel,
} from '../../support/monitoring-queries.ts';
import { metricNames } from '../../support/promql-names.ts';
import { render, ROOT } from '../../support/kustomize.ts';

const run = promisify(execFile);
type Obj = Record<string, any>;

/** Metric names the sidecar registers, read from its sources (every `name: 'sidecar_...'`). */
function sidecarMetricNames(): string[] {
  const dir = join(ROOT, 'sidecar/metrics');
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/\bname: '(sidecar_\w+)'/g)].map((m) => m[1]!));
  return [...new Set(names)].sort();
}

/** prom-client's default Node metrics the dashboard may use (collectDefaultMetrics). */
const PROCESS_METRIC = /^(process|nodejs)_/;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'monitoring-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('alerting rules', async (t) => {
  const rules = loadRules();
  const alerts = rules.groups.flatMap((g) => g.rules);

  await t.test('promtool check rules accepts the rule file', async (tt) => {
    if (!requireTools(tt, ['promtool'])) return;
    const { stdout } = await run('promtool', ['check', 'rules', RULES_FILE]);
    assert.match(stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  await t.test('promtool unit tests over synthetic series pass', async (tt) => {
    if (!requireTools(tt, ['promtool'])) return;
    const { stdout } = await run('promtool', ['test', 'rules', RULES_TEST_FILE]);
    assert.match(stdout, /SUCCESS/);
  });

  await t.test('every alert has a unit test where it fires and one where it does not', () => {
    const tests = (yamlParse(readFileSync(RULES_TEST_FILE, 'utf8')) as Obj).tests as Obj[];
    const cases = tests.flatMap((x) => (x.alert_rule_test ?? []) as Obj[]);
    for (const a of alerts) {
      const own = cases.filter((c) => c.alertname === a.alert);
      assert.ok(own.some((c) => (c.exp_alerts ?? []).length > 0), `${a.alert}: no test where it fires`);
      assert.ok(own.some((c) => (c.exp_alerts ?? []).length === 0), `${a.alert}: no test where it stays quiet`);
    }
  });

  await t.test('every alert names its severity and explains itself', () => {
    const names = alerts.map((a) => a.alert);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
    for (const a of alerts) {
      assert.match(a.alert, /^SpiffeSidecar[A-Z]\w+$/, a.alert);
      assert.ok(['warning', 'critical'].includes(a.labels.severity ?? ''), `${a.alert}: severity ${a.labels.severity}`);
      assert.ok((a.annotations.summary ?? '').includes('{{ $labels.instance }}'), `${a.alert}: summary names the sidecar`);
      assert.ok((a.annotations.description ?? '').length > 20, `${a.alert}: description`);
    }
  });

  await t.test('the PrometheusRule carries exactly the rule file\'s groups', () => {
    const cr = yamlParse(readFileSync(PROMETHEUS_RULE_FILE, 'utf8')) as Obj;
    assert.equal(cr.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(cr.kind, 'PrometheusRule');
    assert.equal(cr.metadata.namespace, 'monitoring');
    assert.deepEqual(cr.spec, { groups: rules.groups });
  });

  await t.test('the PrometheusRule kustomization renders it', async (tt) => {
    if (!requireTools(tt, ['kubectl'])) return;
    const objs = await render('monitoring/prometheus-operator');
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata?.name}`), ['PrometheusRule/spiffe-sidecar']);
    assert.deepEqual((objs[0] as Obj).spec, { groups: rules.groups });
  });

  await t.test('rules use only metrics the sidecar defines', () => {
    const known = new Set(sidecarMetricNames());
    for (const q of ruleQueries(rules)) {
      for (const name of metricNames(q.expr)) assert.ok(known.has(name), `${q.where}: ${name} is not a sidecar metric`);
    }
  });
});

test('the Grafana dashboard', async (t) => {
  const d = loadDashboard();
  const content = d.panels.filter((p) => p.type !== 'row');

  await t.test('identity: uid, title, unique panel ids', () => {
    assert.equal(d.uid, 'spiffe-sidecar');
    assert.ok(d.title.length > 0);
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  });

  await t.test('panels fit the 24-column grid and do not overlap', () => {
    const overlaps = (a: DashboardPanel['gridPos'], b: DashboardPanel['gridPos']): boolean =>
      a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    for (const [i, p] of d.panels.entries()) {
      const g = p.gridPos;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.y >= 0 && g.h > 0, `${p.title}: ${JSON.stringify(g)}`);
      for (const q of d.panels.slice(i + 1)) assert.ok(!overlaps(g, q.gridPos), `${p.title} overlaps ${q.title}`);
    }
  });

  await t.test('every panel and query reads the $datasource variable', () => {
    const v = d.templating.list.find((x) => x.name === 'datasource');
    assert.equal(v?.type, 'datasource');
    assert.equal(v?.query, 'prometheus');
    for (const p of content) {
      assert.equal(p.datasource?.uid, '${datasource}', p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title}: no query`);
      for (const x of p.targets ?? []) assert.equal(x.datasource?.uid, '${datasource}', `${p.title} ${x.refId}`);
    }
    for (const x of d.templating.list.filter((x) => x.type === 'query')) assert.equal(x.datasource?.uid, '${datasource}', x.name);
  });

  await t.test('every metric selector in a panel is filtered by $namespace and $pod', () => {
    for (const p of content) {
      for (const x of p.targets ?? []) {
        for (const m of x.expr.matchAll(/\b([a-z_:][\w:]*)(\{[^}]*\})?(?=[\s)[]|$)/g)) {
          if (!metricNames(m[1]!).includes(m[1]!) || !/^(sidecar|process|nodejs)_/.test(m[1]!)) continue;
          assert.ok((m[2] ?? '').includes('namespace=~"$namespace"') && (m[2] ?? '').includes('pod=~"$pod"'), `${p.title}: ${m[0]}`);
        }
      }
    }
  });

  await t.test('shows every metric the sidecar defines, and only those (plus Node process metrics)', () => {
    const shown = new Set(dashboardQueries(d).flatMap((q) => metricNames(q.expr)));
    const defined = sidecarMetricNames();
    assert.ok(defined.length >= 20, `only ${defined.length} metrics found in sidecar/metrics`);
    const histograms = new Set(defined.filter((n) => n.endsWith('_seconds') && !n.endsWith('_age_seconds') && !n.endsWith('_timestamp_seconds')));
    const missing = defined.filter((n) => !shown.has(n) && !(histograms.has(n) && shown.has(`${n}_bucket`)));
    assert.deepEqual(missing, [], 'metrics with no panel');
    const foreign = [...shown].filter((n) => !PROCESS_METRIC.test(n) && !defined.includes(n) && !defined.includes(n.replace(/_(bucket|sum|count)$/, '')));
    assert.deepEqual(foreign, [], 'metrics the sidecar does not define');
  });

  await t.test('every query is valid PromQL (promtool, with the variables filled in)', async (tt) => {
    if (!requireTools(tt, ['promtool'])) return;
    const queries = dashboardQueries(d);
    const fill = (expr: string): string =>
      expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$namespace', '.*').replaceAll('$pod', '.*');
    const rules = queries.map((q, i) => ({ record: `dashboard:query:${i}`, expr: fill(q.expr) }));
    for (const r of rules) assert.doesNotMatch(r.expr, /\$/, `${r.expr}: unfilled variable`);
    const file = join(tempDir(tt), 'dashboard-queries.yml');
    writeFileSync(file, yamlStringify({ groups: [{ name: 'dashboard', rules }] }));
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });
});

test('k8s/overlays/kind: Prometheus evaluates the rules, the dashboard ships as a ConfigMap', async (t) => {
  if (!requireTools(t, ['kubectl'])) return;
  const objs = (await render('overlays/kind')) as Obj[];
  const configMaps = objs.filter((o) => o.kind === 'ConfigMap' && o.metadata.namespace === 'monitoring');
  const prometheusCm = configMaps.find((c) => c.metadata.name.startsWith('prometheus-'));
  assert.ok(prometheusCm, 'the prometheus ConfigMap');

  await t.test('the Prometheus ConfigMap holds the rule file, and prometheus.yml loads it', () => {
    assert.equal(prometheusCm.data['spiffe-sidecar.rules.yml'], readFileSync(RULES_FILE, 'utf8'));
    const config = yamlParse(prometheusCm.data['prometheus.yml']) as Obj;
    assert.deepEqual(config.rule_files, ['*.rules.yml']);
    assert.ok(path.matchesGlob('spiffe-sidecar.rules.yml', config.rule_files[0] as string), 'the pattern matches the rule file');
    // Relative rule paths resolve against the config file's folder: the ConfigMap's mount.
    const deploy = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus')!;
    const spec = deploy.spec.template.spec;
    const volume = spec.volumes.find((v: Obj) => v.configMap?.name === prometheusCm.metadata.name);
    const mount = spec.containers[0].volumeMounts.find((m: Obj) => m.name === volume.name);
    assert.ok(spec.containers[0].args.includes(`--config.file=${mount.mountPath}/prometheus.yml`));
  });

  await t.test('promtool check config finds the rules beside prometheus.yml', async (tt) => {
    if (!requireTools(tt, ['promtool'])) return;
    const dir = tempDir(tt);
    const config = yamlParse(prometheusCm.data['prometheus.yml']) as Obj;
    // Debian's promtool has no Kubernetes service discovery (as in manifests.test.ts).
    const job = config.scrape_configs[0];
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['127.0.0.1:15020'] }];
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
    writeFileSync(join(dir, 'spiffe-sidecar.rules.yml'), prometheusCm.data['spiffe-sidecar.rules.yml']);
    const { stdout } = await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.match(stdout, new RegExp(`SUCCESS: ${ruleQueries().length} rules found`));
  });

  await t.test('the dashboard ConfigMap carries the grafana_dashboard label and the JSON as is', () => {
    const cm = configMaps.find((c) => c.metadata.name.startsWith('spiffe-sidecar-grafana-dashboard-'));
    assert.ok(cm, 'the dashboard ConfigMap');
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(Object.keys(cm.data), ['spiffe-sidecar.json']);
    assert.equal(cm.data['spiffe-sidecar.json'], readFileSync(DASHBOARD_FILE, 'utf8'));
  });
});
