/**
 * The metric names a PromQL expression selects, for checking dashboards
 * and alerting rules against what the sidecar exports. Not a PromQL
 * parser: it removes everything that is not a metric name (string
 * literals, label matchers, range selectors, grouping label lists, numbers
 * and durations, Grafana variables, function and aggregation names,
 * keywords) and keeps the identifiers left over.
 */

/** PromQL keywords and binary operators spelled as words. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);

/** Every distinct metric name selected by `expr`, in order of appearance. */
export function metricNames(expr: string): string[] {
  const bare = expr
    // String literals first: they may hold braces, brackets or identifiers.
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    // Numbers, hex and durations (`0.99`, `1e3`, `0x1f`, `5m`, `1h30m`).
    .replace(/(?<![\w:])\d[\w.]*/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const name = m[0];
    const after = bare.slice(m.index + name.length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(name.toLowerCase())) continue;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Suffixes Prometheus adds to a histogram's name for its series. */
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * The exposition's metric families: name → type, from its `# TYPE` lines
 * (prom-client writes one for every registered metric, even before it has
 * a sample).
 */
export function exposedFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  return families;
}

/**
 * The family a series name belongs to in `families`: itself, or the
 * histogram (or summary, for `_sum`/`_count`) it is a `_bucket`, `_sum` or
 * `_count` series of; undefined when there is none.
 */
export function familyOf(name: string, families: ReadonlyMap<string, string>): string | undefined {
  if (families.has(name)) return name;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = families.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}
