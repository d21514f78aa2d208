/**
 * Shared set-up of the process-level tests: an echo app, and a two-sidecar
 * mesh (frontend: outbound only; backend: inbound in front of the app) as
 * real `spiffe-sidecar run` processes on dev-agent sockets.
 */
import { createServer, Agent, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePorts, startSidecar, viaOutbound, type HttpResult, type TestSidecar } from './sidecar-harness.ts';
import type { AgentSockets, Cleanup } from './dev-agent-harness.ts';

export const TD = 'example.org';
export const FRONTEND_ID = `spiffe://${TD}/frontend`;
export const BACKEND_ID = `spiffe://${TD}/backend`;

/**
 * Listens on 127.0.0.1 (an ephemeral port) and, after the test, runs
 * `beforeClose` and closes the server with its kept-alive connections;
 * resolves the port.
 */
export async function listenLoopback(cleanup: Cleanup, server: Server, beforeClose: () => void = () => {}): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanup.after(
    () =>
      new Promise<void>((resolve) => {
        beforeClose();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** What the echo app answers. */
export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

/** A loopback HTTP app that echoes each request as JSON; `/slow?ms=N` answers after N ms. */
export interface EchoApp {
  readonly port: number;
  /** Requests received. */
  count(): number;
  /** Requests received and not yet answered. */
  pending(): number;
}

/** Starts an {@link EchoApp}, closed after the test. */
export async function startEchoApp(cleanup: Cleanup): Promise<EchoApp> {
  let count = 0;
  let pending = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    count++;
    pending++;
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://app');
      const delay = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? '1000') : 0;
      const timer = setTimeout(() => {
        timers.delete(timer);
        const body = JSON.stringify({ method: req.method ?? '', url: req.url ?? '', headers: req.headers } satisfies Echo);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        pending--;
      }, delay);
      timers.add(timer);
    });
  });
  const port = await listenLoopback(cleanup, server, () => {
    for (const timer of timers) clearTimeout(timer);
  });
  return { port, count: () => count, pending: () => pending };
}

/** What a {@link startRelayApp} answers: the headers it received and its call's result (the echo when 200). */
export interface Relayed {
  readonly received: IncomingMessage['headers'];
  readonly upstream: { readonly status: number; readonly body: string; readonly echo: Echo | undefined };
}

/**
 * A loopback app that, for each request, calls `path` on `host` through its
 * sidecar's outbound (`outboundPort`) with the headers `forward` picks from
 * the request, and answers a {@link Relayed} as JSON (502 when the call
 * fails). Closed after the test; resolves its port.
 */
export async function startRelayApp(cleanup: Cleanup, outboundPort: number, path: string, host: string, forward: (req: IncomingMessage) => Record<string, string>): Promise<number> {
  const server = createServer((req, res) => {
    req.resume();
    viaOutbound(outboundPort, path, host, { headers: forward(req) }).then(
      (r) => {
        const upstream = { status: r.status, body: r.body, echo: r.status === 200 ? (JSON.parse(r.body) as Echo) : undefined };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ received: req.headers, upstream } satisfies Relayed));
      },
      (err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      },
    );
  });
  return listenLoopback(cleanup, server);
}

/** The running pair. */
export interface Pair {
  readonly frontend: TestSidecar;
  readonly backend: TestSidecar;
  /** The frontend sidecar's outbound port (where the "frontend app" sends plain HTTP). */
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly app: EchoApp;
}

/** Options of {@link startPair}. */
export interface PairOptions {
  /** Sockets of a dev agent with workloads named `frontend` and `backend`. */
  readonly agent: AgentSockets;
  readonly app?: EchoApp;
  /** Extra keys for the backend's `inbound` section (e.g. policyFile). */
  readonly inbound?: Record<string, unknown>;
  /** Extra top-level keys for both configs (e.g. drain). */
  readonly common?: Record<string, unknown>;
  /** Extra top-level keys for the backend's config only (e.g. auth). */
  readonly backend?: Record<string, unknown>;
  /** Extra keys for the frontend's upstream route (e.g. `token: forward`; the default token mode removes the app's credentials). */
  readonly upstream?: Record<string, unknown>;
  readonly waitReady?: boolean;
}

/** Starts the backend sidecar (inbound → app) and the frontend sidecar (outbound → backend). */
export async function startPair(cleanup: Cleanup, o: PairOptions): Promise<Pair> {
  const app = o.app ?? (await startEchoApp(cleanup));
  const [inboundPort, outboundPort] = (await freePorts(2)) as [number, number];
  const waitReady = o.waitReady ?? true;
  const [backend, frontend] = await Promise.all([
    startSidecar({
      cleanup,
      waitReady,
      name: 'backend.yaml',
      config: {
        ...o.common,
        ...o.backend,
        spiffe: { endpointSocket: o.agent.address('backend') },
        inbound: { listen: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${app.port}`, ...o.inbound },
      },
    }),
    startSidecar({
      cleanup,
      waitReady,
      name: 'frontend.yaml',
      config: {
        ...o.common,
        spiffe: { endpointSocket: o.agent.address('frontend') },
        outbound: { listen: `127.0.0.1:${outboundPort}`, upstreams: [{ host: 'backend', address: `127.0.0.1:${inboundPort}`, serverId: BACKEND_ID, ...o.upstream }] },
      },
    }),
  ]);
  return { frontend, backend, outboundPort, inboundPort, app };
}

/** One request's outcome in a load loop. */
export interface LoadResult {
  readonly startedAt: number;
  readonly status: number;
  readonly error?: string;
}

/**
 * Sends requests through the outbound listener from `workers` loops (each
 * on its own keep-alive connection) until `stop()` is called; resolves with
 * every outcome.
 */
export function loadLoop(outboundPort: number, workers = 4): { stop(): Promise<LoadResult[]>; results: LoadResult[] } {
  const results: LoadResult[] = [];
  let running = true;
  const agents: Agent[] = [];
  const loops = Array.from({ length: workers }, async (_, i) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    let n = 0;
    while (running) {
      const startedAt = Date.now();
      try {
        const r: HttpResult = await viaOutbound(outboundPort, `/load/${i}/${n++}`, 'backend', { agent, timeoutMs: 10_000 });
        results.push({ startedAt, status: r.status, ...(r.status !== 200 ? { error: r.body.slice(0, 200) } : {}) });
      } catch (err) {
        results.push({ startedAt, status: 0, error: err instanceof Error ? err.message : String(err) });
      }
    }
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return results;
    },
  };
}

/** Describes failed results for an assertion message. */
export function describeFailures(results: readonly LoadResult[]): string {
  const failed = results.filter((r) => r.status !== 200);
  const sample = failed.slice(0, 5).map((r) => `${new Date(r.startedAt).toISOString()} ${r.status} ${r.error ?? ''}`);
  return `${failed.length} of ${results.length} requests failed: ${sample.join(' | ')}`;
}
