/**
 * Every PromQL expression shipped for monitoring: the Grafana dashboard's
 * panel queries and template-variable queries, and the alerting rules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as yamlParse } from 'yaml';
import { ROOT } from './kustomize.ts';

/** The plain rule file Prometheus and promtool read. */
export const RULES_FILE = join(ROOT, 'k8s/monitoring/spiffe-sidecar.rules.yml');
/** The same rules as a Prometheus Operator PrometheusRule. */
export const PROMETHEUS_RULE_FILE = join(ROOT, 'k8s/monitoring/prometheus-operator/prometheus-rule.yaml');
/** The Grafana dashboard. */
export const DASHBOARD_FILE = join(ROOT, 'k8s/monitoring/grafana/spiffe-sidecar-dashboard.json');
/** promtool unit tests of the rules. */
export const RULES_TEST_FILE = join(ROOT, 'test/integration/k8s/spiffe-sidecar-rules.promtest.yml');

/** One expression and where it comes from, for failure messages. */
export interface ShippedQuery {
  readonly where: string;
  readonly expr: string;
}

/** One Grafana panel, as far as these tests read it. */
export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly { readonly refId: string; readonly expr: string; readonly datasource?: { readonly uid: string } }[];
}

/** The dashboard, as far as these tests read it. */
export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query: unknown; readonly datasource?: { readonly uid: string } }[] };
}

/** One alerting rule, as far as these tests read it. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The rule file's groups. */
export interface RuleGroups {
  readonly groups: readonly { readonly name: string; readonly rules: readonly AlertRule[] }[];
}

/** Reads the dashboard. */
export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Reads the plain rule file. */
export function loadRules(): RuleGroups {
  return yamlParse(readFileSync(RULES_FILE, 'utf8')) as RuleGroups;
}

/** `label_values(<selector>, <label>)` → the selector; other variable queries as they are. */
function variableExpr(query: unknown): string | undefined {
  const text = typeof query === 'string' ? query : (query as { query?: unknown } | null)?.query;
  if (typeof text !== 'string') return undefined;
  const m = /^\s*label_values\(\s*(.*?)\s*,\s*\w+\s*\)\s*$/s.exec(text);
  return m ? m[1]! : text;
}

/** The dashboard's expressions: every panel target and every query variable. */
export function dashboardQueries(d: Dashboard = loadDashboard()): ShippedQuery[] {
  const out: ShippedQuery[] = [];
  for (const p of d.panels) for (const t of p.targets ?? []) out.push({ where: `dashboard panel "${p.title}" ${t.refId}`, expr: t.expr });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const expr = variableExpr(v.query);
    if (expr !== undefined) out.push({ where: `dashboard variable $${v.name}`, expr });
  }
  return out;
}

/** The rules' expressions. */
export function ruleQueries(r: RuleGroups = loadRules()): ShippedQuery[] {
  return r.groups.flatMap((g) => g.rules.map((rule) => ({ where: `rule ${rule.alert}`, expr: rule.expr })));
}
