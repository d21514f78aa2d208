import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { describeError } from '../core/index.ts';
import { DevAgent } from '../devagent/index.ts';
import { SPOOFED_ID, startBackendApp, startFrontendApp, type BackendEcho, type DemoApp } from './demo-apps.ts';
import { freePorts } from './free-ports.ts';
import { httpCall, type HttpResult } from './http-call.ts';
import { SidecarProcess } from './sidecar-process.ts';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the report goes. */
  readonly out: Writable;
  /** The environment the sidecar processes inherit (SPIFFE variables removed). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops the demo (Ctrl-C). */
  readonly stopSignal: AbortSignal;
  /** Run the scripted part, stop, and return 0 only if every check passed. */
  readonly once: boolean;
  /** Lifetime of the dev agent's SVIDs; each is rotated at half of it. */
  readonly svidTtlMs: number;
  /** The node binary and `sidecar/cli/main.ts`, to start sidecars as real processes. */
  readonly execPath: string;
  readonly mainScript: string;
}

const TD = 'example.org';
const ID = {
  frontend: `spiffe://${TD}/frontend`,
  backend: `spiffe://${TD}/backend`,
  intruder: `spiffe://${TD}/intruder`,
} as const;
type Workload = keyof typeof ID;

/** Something to undo at the end, newest first. */
type Undo = () => Promise<unknown> | unknown;

class Interrupted extends Error {}

/** Resolves like `p`, or rejects with Interrupted as soon as `stop` fires. */
function untilStopped<T>(p: Promise<T>, stop: AbortSignal): Promise<T> {
  if (stop.aborted) return Promise.reject(new Interrupted());
  return new Promise<T>((resolve, reject) => {
    const onStop = (): void => reject(new Interrupted());
    stop.addEventListener('abort', onStop, { once: true });
    p.then(resolve, reject).finally(() => stop.removeEventListener('abort', onStop));
  });
}

/**
 * `spiffe-sidecar demo`: three workloads on loopback, each with a sidecar as
 * a real `spiffe-sidecar run` process, on the embedded dev agent. Drives a
 * few requests and prints what each sidecar did: the allowed call with the
 * caller identity the backend saw, the intruder's 403, the spoofed header
 * replaced, an SVID rotation. Then (unless `once`) it keeps running with
 * curl lines to try until the stop signal. Everything it started, and its
 * temp directory, is removed at the end.
 */
export async function runDemo(o: DemoOptions): Promise<number> {
  const say = (line = ''): void => void o.out.write(line + '\n');
  const undo: Undo[] = [];
  const base = tmpdir().length > 40 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'ssd-demo-'));
  undo.push(() => rmSync(dir, { recursive: true, force: true }));
  let failures = 0;
  let checks = 0;
  const check = (ok: boolean, text: string, why = ''): boolean => {
    checks++;
    if (!ok) failures++;
    say(`    ${ok ? 'ok    ' : 'FAILED'} ${text}${!ok && why ? `\n           ${why}` : ''}`);
    return ok;
  };
  const sidecars = new Map<Workload, SidecarProcess>();
  const interrupted = (): void => {
    if (o.stopSignal.aborted) throw new Interrupted();
  };

  try {
    say(`spiffe-sidecar demo: three workloads in trust domain ${TD}, each behind its own sidecar process,`);
    say(`on the embedded dev agent (SVID TTL ${o.svidTtlMs / 1000}s, rotated at half-life). Working directory ${dir}.`);
    say();

    const [feApp, feOut, feAdmin, beApp, beIn, beAdmin, inOut, inAdmin] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
    const agent = await DevAgent.start({
      trustDomains: [{ name: TD }],
      workloads: (Object.keys(ID) as Workload[]).map((w) => ({ socketPath: join(dir, `${w}.sock`), ids: [ID[w]] })),
      svidTtlMs: o.svidTtlMs,
    });
    undo.push(() => agent.stop());
    const backendApp = await startBackendApp(beApp);
    undo.push(() => backendApp.close());
    const frontendApp = await startFrontendApp(feApp, feOut);
    undo.push(() => frontendApp.close());

    const policyPath = join(dir, 'backend-policy.yaml');
    writeFileSync(policyPath, stringify({ version: 1, rules: [{ name: 'frontend-calls-backend', from: [{ id: ID.frontend }] }] }));
    const socket = (w: Workload): string => `unix://${join(dir, `${w}.sock`)}`;
    const backendRoute = { host: 'backend', address: `127.0.0.1:${beIn}`, serverId: ID.backend };
    const configs: Record<Workload, Record<string, unknown>> = {
      frontend: { spiffe: { endpointSocket: socket('frontend') }, outbound: { listen: `127.0.0.1:${feOut}`, upstreams: [backendRoute] }, admin: { listen: `127.0.0.1:${feAdmin}` } },
      backend: {
        spiffe: { endpointSocket: socket('backend') },
        inbound: { listen: `127.0.0.1:${beIn}`, app: `127.0.0.1:${beApp}`, policyFile: policyPath },
        admin: { listen: `127.0.0.1:${beAdmin}` },
      },
      intruder: { spiffe: { endpointSocket: socket('intruder') }, outbound: { listen: `127.0.0.1:${inOut}`, upstreams: [backendRoute] }, admin: { listen: `127.0.0.1:${inAdmin}` } },
    };
    const admins: Record<Workload, number> = { frontend: feAdmin, backend: beAdmin, intruder: inAdmin };
    const childEnv = Object.fromEntries(Object.entries(o.env).filter(([k]) => !k.startsWith('SPIFFE_SIDECAR_') && k !== 'SPIFFE_ENDPOINT_SOCKET'));
    for (const w of Object.keys(configs) as Workload[]) {
      const configPath = join(dir, `${w}-sidecar.yaml`);
      writeFileSync(configPath, stringify({ ...configs[w], log: { level: 'info' } }));
      const p = SidecarProcess.spawn({ execPath: o.execPath, mainScript: o.mainScript, configPath, adminPort: admins[w], env: childEnv, logFile: join(dir, `${w}-sidecar.log`) });
      sidecars.set(w, p);
      undo.push(async () => {
        const stopped = p.stop();
        const timer = setTimeout(() => void p.kill(), 15_000);
        await stopped;
        clearTimeout(timer);
      });
    }
    const rows: [string, string, number][] = [
      ['frontend', `app 127.0.0.1:${feApp} -> its sidecar's outbound 127.0.0.1:${feOut}`, feAdmin],
      ['backend', `sidecar inbound 127.0.0.1:${beIn} (mTLS) -> app 127.0.0.1:${beApp}`, beAdmin],
      ['intruder', `sidecar outbound 127.0.0.1:${inOut}`, inAdmin],
    ];
    const width = Math.max(...rows.map((r) => r[1].length)) + 2;
    say(`  workload  ${'listeners'.padEnd(width)}admin (metrics, readyz, debug)`);
    for (const [w, l, a] of rows) say(`  ${w.padEnd(8)}  ${l.padEnd(width)}http://127.0.0.1:${a}`);
    say(`  backend policy: only ${ID.frontend} may call (${policyPath})`);
    say();
    try {
      await untilStopped(Promise.all([...sidecars.values()].map((p) => p.waitReady(30_000))), o.stopSignal);
    } catch (err) {
      if (err instanceof Interrupted) throw err;
      check(false, 'all three sidecars ready', describeError(err));
      return 1;
    }
    interrupted();

    say(`[1] frontend -> backend (frontend app -> its sidecar -> mTLS -> backend's sidecar -> backend app)`);
    const before = await svidOf(sidecars.get('frontend')!);
    const r1 = await frontendCall(feApp, '/call?path=/hello');
    const after = await svidOf(sidecars.get('frontend')!);
    if (check(r1.backendStatus === 200, `allowed: ${r1.backendStatus} from the backend`, JSON.stringify(r1))) {
      const echo = r1.backend as BackendEcho;
      check(echo.callerSpiffeId === ID.frontend, `backend saw x-client-spiffe-id: ${echo.callerSpiffeId}`);
      check(echo.xfccParts?.uri === ID.frontend && echo.xfccParts.by === ID.backend, `backend saw x-forwarded-client-cert: ${shorten(echo.xfcc)}`);
      const hashes = [before?.leafSha256, after?.leafSha256];
      check(echo.xfccParts?.hash !== undefined && hashes.includes(echo.xfccParts.hash), "XFCC Hash is the SHA-256 of the frontend's certificate (from its /debug/svid)");
    }
    say();
    interrupted();

    say(`[2] intruder (${ID.intruder}, a valid SVID of the same trust domain) -> backend`);
    const seen = backendApp.requests();
    const r2 = await httpCall(inOut, '/hello', { headers: { host: 'backend' } });
    check(r2.status === 403, `denied: ${r2.status} ${r2.body.trim()}`);
    check(backendApp.requests() === seen, 'the backend app never saw the request');
    say();
    interrupted();

    say(`[3] the frontend app sends x-client-spiffe-id: ${SPOOFED_ID} (and a forged XFCC)`);
    const r3 = await frontendCall(feApp, '/call-spoofed?path=/hello');
    const echo3 = r3.backend as Partial<BackendEcho>;
    check(
      r3.backendStatus === 200 && echo3.callerSpiffeId === ID.frontend && echo3.xfccParts?.uri === ID.frontend,
      `backend saw x-client-spiffe-id: ${echo3.callerSpiffeId ?? '(none)'}: the spoofed value was replaced by the verified one`,
      JSON.stringify(r3),
    );
    say();
    interrupted();

    const waitMs = o.svidTtlMs + 10_000;
    say(`[4] SVID rotation (the dev agent rotates at half-life; waiting up to ${Math.round(waitMs / 1000)}s)`);
    const backend = sidecars.get('backend')!;
    const old = await svidOf(backend);
    const rotated = old ? await waitForNewSerial(backend, old.serial, waitMs, o.stopSignal) : undefined;
    interrupted();
    if (check(rotated !== undefined, `backend SVID serial ${short(old?.serial)} -> ${short(rotated?.serial)} (valid until ${rotated?.notAfter ?? '?'})`)) {
      const r4 = await frontendCall(feApp, '/call?path=/after-rotation');
      check(r4.backendStatus === 200, `frontend -> backend still allowed after the rotation: ${r4.backendStatus}`);
      const rotations = await backend.metric('sidecar_svid_rotations_total');
      check((rotations ?? 0) >= 1, `backend sidecar_svid_rotations_total ${rotations ?? 'missing'}`);
    }
    say();

    say(`[5] what the backend's sidecar counted (http://127.0.0.1:${beAdmin}/metrics)`);
    const metrics = (await backend.admin('/metrics')).body.split('\n').filter((l) => /^sidecar_(requests_total|authz_decisions_total)\{/.test(l));
    for (const l of metrics) say(`    ${l}`);
    check(
      metrics.some((l) => l.includes('decision="deny"') && l.includes(`peer_spiffe_id="${ID.intruder}"`)),
      'the intruder is counted as denied, by SPIFFE ID',
    );
    say();

    say(failures === 0 ? `all ${checks} checks passed.` : `${failures} of ${checks} checks FAILED; sidecar logs are in ${dir}/*-sidecar.log`);
    if (failures > 0) for (const [w, p] of sidecars) say(`--- ${w} sidecar, last lines:\n${p.tail(15)}`);
    if (o.once) return failures === 0 ? 0 : 1;

    say();
    say('Try it (Ctrl-C stops everything and removes the working directory):');
    const tries: [string, string][] = [
      [`curl -H 'Host: backend' http://127.0.0.1:${feOut}/hello`, 'as the frontend: allowed'],
      [`curl -H 'Host: backend' -H 'x-client-spiffe-id: ${SPOOFED_ID}' http://127.0.0.1:${feOut}/hello`, 'spoofed header: replaced'],
      [`curl -H 'Host: backend' http://127.0.0.1:${inOut}/hello`, 'as the intruder: 403'],
      [`curl 'http://127.0.0.1:${feApp}/call?path=/hello'`, 'through the frontend app'],
      [`curl http://127.0.0.1:${beAdmin}/metrics`, "the backend sidecar's metrics"],
      [`curl http://127.0.0.1:${beAdmin}/debug/svid`, `its SVID (the serial changes every ${o.svidTtlMs / 2000}s)`],
    ];
    const cmdWidth = Math.max(...tries.map((t) => t[0].length)) + 2;
    for (const [cmd, what] of tries) say(`  ${cmd.padEnd(cmdWidth)}# ${what}`);
    say(`  other metrics: http://127.0.0.1:${feAdmin}/metrics (frontend), http://127.0.0.1:${inAdmin}/metrics (intruder)`);
    say(`  sidecar logs: ${dir}/{frontend,backend,intruder}-sidecar.log`);
    say(`  backend policy: ${policyPath} (edit it: the sidecar reloads it)`);
    await new Promise<void>((resolve) => {
      if (o.stopSignal.aborted) return resolve();
      o.stopSignal.addEventListener('abort', () => resolve(), { once: true });
      for (const [w, p] of sidecars) {
        void p.exited.then((status) => {
          // Exit 0 is a sidecar that got the terminal's Ctrl-C before we did.
          if (o.stopSignal.aborted || status === 0) return;
          say(`the ${w} sidecar exited unexpectedly (${status}); stopping the demo. Last lines:\n${p.tail(15)}`);
          failures++;
          resolve();
        });
      }
    });
    say('stopping...');
    return failures === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof Interrupted) {
      say('interrupted; stopping...');
      return o.once ? 130 : 0;
    }
    say(`demo failed: ${describeError(err)}`);
    for (const [w, p] of sidecars) say(`--- ${w} sidecar, last lines:\n${p.tail(15)}`);
    return 1;
  } finally {
    for (const u of undo.reverse()) {
      try {
        await u();
      } catch (err) {
        say(`cleanup: ${describeError(err)}`);
      }
    }
  }
}

interface FrontendAnswer {
  readonly backendStatus: number;
  readonly backend: unknown;
}

async function frontendCall(port: number, path: string): Promise<FrontendAnswer> {
  const r: HttpResult = await httpCall(port, path);
  try {
    return JSON.parse(r.body) as FrontendAnswer;
  } catch {
    return { backendStatus: 0, backend: r.body };
  }
}

interface SvidView {
  readonly serial: string;
  readonly notAfter: string;
  readonly leafSha256: string;
}

async function svidOf(p: SidecarProcess): Promise<SvidView | undefined> {
  const r = await p.admin('/debug/svid');
  if (r.status !== 200) return undefined;
  return (JSON.parse(r.body) as { svid: SvidView | null }).svid ?? undefined;
}

async function waitForNewSerial(p: SidecarProcess, serial: string, timeoutMs: number, stop: AbortSignal): Promise<SvidView | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !stop.aborted) {
    const now = await svidOf(p);
    if (now && now.serial !== serial) return now;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

function short(serial: string | undefined): string {
  return serial === undefined ? '?' : `${serial.slice(0, 12)}...`;
}

function shorten(xfcc: string | null): string {
  if (xfcc === null) return '(none)';
  return xfcc.replace(/Hash=([0-9a-f]{12})[0-9a-f]+/, 'Hash=$1...');
}
