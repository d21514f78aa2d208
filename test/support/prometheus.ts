/**
 * A real Prometheus (Debian's `prometheus` package) for end-to-end tests:
 * its own config and TSDB folder in the test's temp folder, listening on
 * 127.0.0.1:<free port>, scraping the given targets every second. The
 * test then asks its HTTP API (`/api/v1/query`) what it scraped.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import type { Teardown } from './teardown.ts';
import { freePorts } from '../../sidecar/testing.ts';

/** One scrape target: `host:port` plus labels attached to its series. */
export interface ScrapeTarget {
  readonly address: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** One series of an instant-vector query result. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A running Prometheus. */
export interface Prometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly process: LoggedProcess;
  /** Runs an instant query; throws unless the API answers `success` with a vector. */
  query(promql: string): Promise<Sample[]>;
  /**
   * Repeats `query` until `accept` returns true for its result (scrapes
   * come every second), returning that result; throws after `timeoutMs`
   * with the last result and the scrape state of every target.
   */
  waitFor(promql: string, accept: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  /** `health` and `lastError` of every active target, for failure messages. */
  targets(): Promise<string>;
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  /** Folder for prometheus.yml, the TSDB and the log (the test's temp folder). */
  readonly dir: string;
  readonly targets: readonly ScrapeTarget[];
  readonly teardown: Teardown;
  readonly jobName?: string;
  readonly binary?: string;
}

/** Writes the scrape config: one static_configs group per target, so each keeps its own labels. */
function renderConfig(job: string, targets: readonly ScrapeTarget[]): string {
  const groups = targets.map((t) => {
    const labels = Object.entries(t.labels ?? {}).map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`);
    return [`      - targets: [${JSON.stringify(t.address)}]`, ...(labels.length > 0 ? ['        labels:', ...labels] : [])].join('\n');
  });
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(job)}`,
    '    metrics_path: /metrics',
    '    static_configs:',
    ...groups,
    '',
  ].join('\n');
}

/** Starts Prometheus and waits until `/-/ready` answers 200. */
export async function startPrometheus(o: PrometheusOptions): Promise<Prometheus> {
  const port = (await freePorts(1))[0]!;
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(o.dir, 'prometheus.yml');
  const tsdb = join(o.dir, 'prometheus-data');
  mkdirSync(tsdb, { recursive: true });
  writeFileSync(configFile, renderConfig(o.jobName ?? 'sidecars', o.targets));
  const proc = startLogged({
    name: 'prometheus',
    argv: [
      o.binary ?? 'prometheus',
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${tsdb}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    cwd: o.dir,
    logFile: join(o.dir, 'prometheus.log'),
    teardown: o.teardown,
  });

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exited()) throw new Error(`prometheus exited before becoming ready:\n${proc.tail()}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s:\n${proc.tail()}`);
    await sleep(200);
  }

  const query = async (promql: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || body.data?.resultType !== 'vector') {
      throw new Error(`prometheus query ${promql} failed: ${body.error ?? JSON.stringify(body).slice(0, 300)}`);
    }
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };

  const targets = async (): Promise<string> => {
    try {
      const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { data?: { activeTargets?: { scrapeUrl: string; health: string; lastError: string }[] } };
      return (body.data?.activeTargets ?? []).map((t) => `${t.scrapeUrl}: ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`).join('\n');
    } catch (err) {
      return `targets unavailable: ${String(err)}`;
    }
  };

  return {
    url,
    process: proc,
    query,
    targets,
    async waitFor(promql, accept, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      let last: Sample[] = [];
      for (;;) {
        last = await query(promql);
        if (accept(last)) return last;
        if (Date.now() > end) {
          throw new Error(`prometheus: ${promql} never gave the expected result within ${timeoutMs} ms; last: ${JSON.stringify(last)}\ntargets:\n${await targets()}`);
        }
        await sleep(500);
      }
    },
  };
}
