/**
 * Where a running sidecar allocates: V8's sampling heap profiler over the
 * inspector protocol, counting objects the young and old generation
 * collections freed too (what a proxy allocates per request dies young, so
 * a profile of live objects would miss it). For the hot-path allocation
 * budget (docs/benchmarks.md, "Where the sidecar's time goes").
 *
 *   node bench/alloc-sample.ts --url ws://127.0.0.1:PORT/ID [--seconds 5] [--requests N] [--top 25]
 *
 * Start the sidecar with `--inspect=127.0.0.1:0` (e.g. `bench/bench.ts
 * --keep-temp --node-flags="--max-semi-space-size=1
 * --max-old-space-size=96 --inspect=127.0.0.1:0"`; the URL is in its log)
 * and run this while load runs. `--requests` (the requests the sidecar
 * carried while sampling) turns totals into bytes per request. Prints self
 * and inclusive bytes per function. Sampling slows the process; read the
 * shares, not its throughput.
 */
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface SampleNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly SampleNode[];
}

/** One inspector session: numbered calls, answers matched by id. */
class Inspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: unknown };
      const p = m.id === undefined ? undefined : this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id!);
      if (m.error !== undefined) p.reject(new Error(`inspector: ${JSON.stringify(m.error)}`));
      else p.resolve(m.result);
    });
  }

  static open(url: string, timeoutMs: number): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => reject(new Error(`inspector: no connection to ${url} within ${timeoutMs} ms`)), timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new Inspector(ws));
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`inspector: cannot connect to ${url}`));
      });
    });
  }

  call<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

function frameName(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '')}:${f.lineNumber + 1}`;
}

/** Self and inclusive bytes per function name (recursion counted once per path). */
function summarise(head: SampleNode): { total: number; self: Map<string, number>; inclusive: Map<string, number> } {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const walk = (n: SampleNode, path: readonly string[]): void => {
    const name = frameName(n.callFrame);
    total += n.selfSize;
    self.set(name, (self.get(name) ?? 0) + n.selfSize);
    const here = path.includes(name) ? path : [...path, name];
    for (const p of here) inclusive.set(p, (inclusive.get(p) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, here);
  };
  walk(head, []);
  return { total, self, inclusive };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, seconds: { type: 'string', default: '5' }, requests: { type: 'string' }, top: { type: 'string', default: '25' } },
  });
  if (values.url === undefined || !values.url.startsWith('ws://')) throw new Error('alloc-sample: --url ws://HOST:PORT/ID is required (the sidecar must run with --inspect)');
  const seconds = Number(values.seconds);
  const requests = values.requests === undefined ? 0 : Number(values.requests);
  const top = Number(values.top);
  if (!(seconds > 0 && seconds <= 120)) throw new Error('alloc-sample: --seconds must be in (0, 120]');
  if (!Number.isInteger(requests) || requests < 0) throw new Error('alloc-sample: --requests must be a whole number');
  if (!Number.isInteger(top) || top < 1) throw new Error('alloc-sample: --top must be a positive whole number');

  const ins = await Inspector.open(values.url, 5000);
  try {
    await ins.call('HeapProfiler.enable');
    await ins.call('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile } = await ins.call<{ profile: { head: SampleNode } }>('HeapProfiler.stopSampling');
    const { total, self, inclusive } = summarise(profile.head);
    const per = requests > 0 ? requests : 1;
    const unit = requests > 0 ? 'bytes per request' : 'bytes';
    const rows = (m: Map<string, number>): string =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, bytes]) => `| ${name} | ${Math.round(bytes / per)} |`)
        .join('\n');
    process.stdout.write(`Sampled ${seconds} s: ${Math.round(total / per)} ${unit} in all.\n\n| Function (self) | ${unit} |\n|---|---:|\n${rows(self)}\n\n`);
    process.stdout.write(`| Function (inclusive) | ${unit} |\n|---|---:|\n${rows(inclusive)}\n`);
  } finally {
    ins.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
