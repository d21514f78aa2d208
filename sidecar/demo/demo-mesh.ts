import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { describeError } from '../core/index.ts';
import { DevAgent } from '../devagent/index.ts';
import { BankChainDemo } from './bank-chain-demo.ts';
import { callThroughFrontend, SPOOFED_ID, startBackendApp, startFrontendApp, type BackendEcho } from './demo-apps.ts';
import { DemoReport } from './demo-report.ts';
import { EndUserDemo } from './end-user-demo.ts';
import { freePorts } from './free-ports.ts';
import { httpCall } from './http-call.ts';
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

/** The loopback ports of the demo: apps, sidecar listeners, admin listeners. */
interface Ports {
  readonly feApp: number;
  readonly feOut: number;
  readonly feAdmin: number;
  readonly beApp: number;
  readonly beIn: number;
  readonly beAdmin: number;
  readonly inOut: number;
  readonly inAdmin: number;
}

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
 * a real `spiffe-sidecar run` process, on the embedded dev agent, and an
 * authorization server for end users (when the checkout has one), with the
 * bank chain's three more workloads (bank-chain-demo.ts). Drives a few
 * requests and prints what each sidecar did: the allowed call with the
 * caller identity the backend saw, the intruder's 403, the spoofed header
 * replaced, end users' tokens verified and authorized by their claims, the
 * token each hop of the chain got by exchange, an SVID rotation. Then (unless `once`) it keeps running with curl lines to
 * try until the stop signal. Everything it started, and its temp directory,
 * is removed at the end.
 */
export async function runDemo(o: DemoOptions): Promise<number> {
  const report = new DemoReport(o.out);
  const say = (line?: string): void => report.say(line);
  const check = (ok: boolean, text: string, why?: string): boolean => report.check(ok, text, why);
  const undo: Undo[] = [];
  const base = tmpdir().length > 40 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'ssd-demo-'));
  undo.push(() => rmSync(dir, { recursive: true, force: true }));
  const sidecars = new Map<Workload, SidecarProcess>();
  const interrupted = (): void => {
    if (o.stopSignal.aborted) throw new Interrupted();
  };

  try {
    say(`spiffe-sidecar demo: workloads in trust domain ${TD} (frontend, backend, intruder, and with the authorization server`);
    say(`the bank chain edge, accounts, payments), each behind its own sidecar process, on the embedded dev agent`);
    say(`(SVID TTL ${o.svidTtlMs / 1000}s, rotated at half-life). Working directory ${dir}.`);
    say();

    const [feApp, feOut, feAdmin, beApp, beIn, beAdmin, inOut, inAdmin] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
    const p: Ports = { feApp, feOut, feAdmin, beApp, beIn, beAdmin, inOut, inAdmin };
    const agent = await DevAgent.start({
      trustDomains: [{ name: TD }],
      workloads: [...(Object.keys(ID) as Workload[]).map((w) => ({ socketPath: join(dir, `${w}.sock`), ids: [ID[w]] })), ...BankChainDemo.workloads(dir, TD)],
      svidTtlMs: o.svidTtlMs,
    });
    undo.push(() => agent.stop());
    const backendApp = await startBackendApp(beApp);
    undo.push(() => backendApp.close());
    const frontendApp = await startFrontendApp(feApp, feOut);
    undo.push(() => frontendApp.close());
    const childEnv = Object.fromEntries(Object.entries(o.env).filter(([k]) => !k.startsWith('SPIFFE_SIDECAR_') && k !== 'SPIFFE_ENDPOINT_SOCKET'));
    // The checkout's root: main.ts sits in sidecar/cli/ (dist/cli/ when compiled).
    const projectRoot = resolve(dirname(o.mainScript), '..', '..');
    const serverAdditions = BankChainDemo.registration(dir, agent.jwks(TD));
    const endUser = await EndUserDemo.prepare({ execPath: o.execPath, projectRoot, dir, env: childEnv, serverAdditions }, report);
    if (endUser !== undefined) undo.push(() => endUser.stop());
    const chainOptions = { execPath: o.execPath, mainScript: o.mainScript, dir, env: childEnv, trustDomain: TD, ingressId: ID.frontend };
    const chain = endUser && (await BankChainDemo.start({ ...chainOptions, server: endUser.authorizationServer }));
    if (chain) undo.push(() => chain.stop());

    const policyPath = join(dir, 'backend-policy.yaml');
    const rules = [{ name: 'frontend-calls-backend', from: [{ id: ID.frontend }], to: [{ paths: ['/hello'] }] }, ...(endUser ? [endUser.policyRule(ID.frontend)] : [])];
    writeFileSync(policyPath, stringify({ version: 2, rules }));
    const configs = sidecarConfigs(dir, p, policyPath, endUser?.backendConfig() ?? {}, chain ? [chain.ingressRoute()] : []);
    const admins: Record<Workload, number> = { frontend: feAdmin, backend: beAdmin, intruder: inAdmin };
    for (const w of Object.keys(configs) as Workload[]) {
      const configPath = join(dir, `${w}-sidecar.yaml`);
      writeFileSync(configPath, stringify({ ...configs[w], log: { level: 'info' } }));
      const sidecar = SidecarProcess.spawn({ execPath: o.execPath, mainScript: o.mainScript, configPath, adminPort: admins[w], env: childEnv, logFile: join(dir, `${w}-sidecar.log`) });
      sidecars.set(w, sidecar);
      undo.push(() => stopSidecar(sidecar));
    }
    printOverview(report, p, endUser, chain);
    say(`  backend policy: ${ID.frontend} may call /hello${endUser ? `; ${endUser.policySummary()}` : ''} (${policyPath})`);
    say();
    try {
      await untilStopped(Promise.all([...sidecars.values()].map((s) => s.waitReady(30_000))), o.stopSignal);
    } catch (err) {
      if (err instanceof Interrupted) throw err;
      check(false, 'all three sidecars ready', describeError(err));
      return 1;
    }
    interrupted();

    report.section(`frontend -> backend (frontend app -> its sidecar -> mTLS -> backend's sidecar -> backend app)`);
    const before = await svidOf(sidecars.get('frontend')!);
    const r1 = await callThroughFrontend(feApp, '/call?path=/hello');
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

    report.section(`intruder (${ID.intruder}, a valid SVID of the same trust domain) -> backend`);
    const seen = backendApp.requests();
    const r2 = await httpCall(inOut, '/hello', { headers: { host: 'backend' } });
    check(r2.status === 403, `denied: ${r2.status} ${r2.body.trim()}`);
    check(backendApp.requests() === seen, 'the backend app never saw the request');
    say();
    interrupted();

    report.section(`the frontend app sends x-client-spiffe-id: ${SPOOFED_ID} (and a forged XFCC)`);
    const r3 = await callThroughFrontend(feApp, '/call-spoofed?path=/hello');
    const echo3 = r3.backend as Partial<BackendEcho>;
    check(
      r3.backendStatus === 200 && echo3.callerSpiffeId === ID.frontend && echo3.xfccParts?.uri === ID.frontend,
      `backend saw x-client-spiffe-id: ${echo3.callerSpiffeId ?? '(none)'}: the spoofed value was replaced by the verified one`,
      JSON.stringify(r3),
    );
    say();
    interrupted();

    if (endUser !== undefined) {
      await endUser.run(report, feApp, backendApp);
      say();
      interrupted();
    }
    if (chain) {
      await chain.run(report, feOut);
      say();
      interrupted();
    }

    const waitMs = o.svidTtlMs + 10_000;
    report.section(`SVID rotation (the dev agent rotates at half-life; waiting up to ${Math.round(waitMs / 1000)}s)`);
    const backend = sidecars.get('backend')!;
    const old = await svidOf(backend);
    const rotated = old ? await waitForNewSerial(backend, old.serial, waitMs, o.stopSignal) : undefined;
    interrupted();
    if (check(rotated !== undefined, `backend SVID serial ${short(old?.serial)} -> ${short(rotated?.serial)} (valid until ${rotated?.notAfter ?? '?'})`)) {
      const r4 = await callThroughFrontend(feApp, '/call?path=/hello');
      check(r4.backendStatus === 200, `frontend -> backend still allowed after the rotation: ${r4.backendStatus}`);
      const rotations = await backend.metric('sidecar_svid_rotations_total');
      check((rotations ?? 0) >= 1, `backend sidecar_svid_rotations_total ${rotations ?? 'missing'}`);
    }
    say();

    report.section(`what the backend's sidecar counted (http://127.0.0.1:${beAdmin}/metrics)`);
    const metrics = (await backend.admin('/metrics')).body.split('\n').filter((l) => /^sidecar_(requests_total|authz_decisions_total|token_checks_total|token_introspection_requests_total)\{/.test(l));
    for (const l of metrics) say(`    ${l}`);
    check(
      metrics.some((l) => l.includes('decision="deny"') && l.includes(`peer_spiffe_id="${ID.intruder}"`)),
      'the intruder is counted as denied, by SPIFFE ID',
    );
    say();

    const { checks, failures } = report;
    say(failures === 0 ? `all ${checks} checks passed.` : `${failures} of ${checks} checks FAILED; sidecar logs are in ${dir}/*-sidecar.log`);
    if (failures > 0) for (const [w, s] of sidecars) say(`--- ${w} sidecar, last lines:\n${s.tail(15)}`);
    if (o.once) return failures === 0 ? 0 : 1;

    say();
    await printTries(report, p, { dir, policyPath, svidTtlMs: o.svidTtlMs, endUser, chain });
    await untilStopOrExit(report, sidecars, o.stopSignal);
    say('stopping...');
    return report.failures === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof Interrupted) {
      say('interrupted; stopping...');
      return o.once ? 130 : 0;
    }
    say(`demo failed: ${describeError(err)}`);
    for (const [w, s] of sidecars) say(`--- ${w} sidecar, last lines:\n${s.tail(15)}`);
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

/**
 * The three sidecars' configurations; `backendExtra` adds sections to the
 * backend's (the end-user part's `auth:` and `headers:`), `frontendRoutes`
 * upstreams to the frontend's (the bank chain's way in).
 */
function sidecarConfigs(dir: string, p: Ports, policyFile: string, backendExtra: Record<string, unknown>, frontendRoutes: readonly Record<string, unknown>[]): Record<Workload, Record<string, unknown>> {
  const socket = (w: Workload): string => `unix://${join(dir, `${w}.sock`)}`;
  const backendRoute = { host: 'backend', address: `127.0.0.1:${p.beIn}`, serverId: ID.backend };
  return {
    // The frontend passes its users' tokens on (the default, `none`, removes them before the network).
    frontend: {
      spiffe: { endpointSocket: socket('frontend') },
      outbound: { listen: `127.0.0.1:${p.feOut}`, upstreams: [{ ...backendRoute, token: 'forward' }, ...frontendRoutes] },
      admin: { listen: `127.0.0.1:${p.feAdmin}` },
    },
    backend: {
      spiffe: { endpointSocket: socket('backend') },
      inbound: { listen: `127.0.0.1:${p.beIn}`, app: `127.0.0.1:${p.beApp}`, policyFile },
      admin: { listen: `127.0.0.1:${p.beAdmin}` },
      ...backendExtra,
    },
    intruder: { spiffe: { endpointSocket: socket('intruder') }, outbound: { listen: `127.0.0.1:${p.inOut}`, upstreams: [backendRoute] }, admin: { listen: `127.0.0.1:${p.inAdmin}` } },
  };
}

async function stopSidecar(p: SidecarProcess): Promise<void> {
  const stopped = p.stop();
  const timer = setTimeout(() => void p.kill(), 15_000);
  await stopped;
  clearTimeout(timer);
}

/** The table of workloads and their listeners, and the authorization server. */
function printOverview(report: DemoReport, p: Ports, endUser: EndUserDemo | undefined, chain: BankChainDemo | undefined): void {
  const rows: [string, string, number][] = [
    ['frontend', `app 127.0.0.1:${p.feApp} -> its sidecar's outbound 127.0.0.1:${p.feOut}`, p.feAdmin],
    ['backend', `sidecar inbound 127.0.0.1:${p.beIn} (mTLS) -> app 127.0.0.1:${p.beApp}`, p.beAdmin],
    ['intruder', `sidecar outbound 127.0.0.1:${p.inOut}`, p.inAdmin],
    ...(chain?.overviewRows() ?? []),
  ];
  const width = Math.max(...rows.map((r) => r[1].length)) + 2;
  report.say(`  workload  ${'listeners'.padEnd(width)}admin (metrics, readyz, debug)`);
  for (const [w, l, a] of rows) report.say(`  ${w.padEnd(8)}  ${l.padEnd(width)}http://127.0.0.1:${a}`);
  for (const line of endUser?.describe() ?? []) report.say(line);
  for (const line of chain?.describe() ?? []) report.say(line);
}

/** The curl lines to try while the demo keeps running. */
async function printTries(report: DemoReport, p: Ports, o: { dir: string; policyPath: string; svidTtlMs: number; endUser: EndUserDemo | undefined; chain: BankChainDemo | undefined }): Promise<void> {
  report.say('Try it (Ctrl-C stops everything and removes the working directory):');
  const tries: [string, string][] = [
    [`curl -H 'Host: backend' http://127.0.0.1:${p.feOut}/hello`, 'as the frontend: allowed'],
    [`curl -H 'Host: backend' -H 'x-client-spiffe-id: ${SPOOFED_ID}' http://127.0.0.1:${p.feOut}/hello`, 'spoofed header: replaced'],
    [`curl -H 'Host: backend' http://127.0.0.1:${p.inOut}/hello`, 'as the intruder: 403'],
    [`curl 'http://127.0.0.1:${p.feApp}/call?path=/hello'`, 'through the frontend app'],
    [`curl http://127.0.0.1:${p.beAdmin}/metrics`, "the backend sidecar's metrics"],
    [`curl http://127.0.0.1:${p.beAdmin}/debug/svid`, `its SVID (the serial changes every ${o.svidTtlMs / 2000}s)`],
  ];
  const cmdWidth = Math.max(...tries.map((t) => t[0].length)) + 2;
  for (const [cmd, what] of tries) report.say(`  ${cmd.padEnd(cmdWidth)}# ${what}`);
  // A token makes a long line: its comment goes above it.
  for (const [cmd, what] of [...((await o.endUser?.tryLines(p.feApp)) ?? []), ...((await o.chain?.tryLines(p.feOut)) ?? [])]) report.say(`  # ${what}\n  ${cmd}`);
  report.say(`  other metrics: http://127.0.0.1:${p.feAdmin}/metrics (frontend), http://127.0.0.1:${p.inAdmin}/metrics (intruder)`);
  report.say(`  sidecar logs: ${o.dir}/{frontend,backend,intruder}-sidecar.log${o.chain ? `, ${o.chain.logFiles()}` : ''}${o.endUser ? `, authorization server: ${o.dir}/authorization-server.log` : ''}`);
  report.say(`  backend policy: ${o.policyPath} (edit it: the sidecar reloads it)`);
}

/** Resolves on the stop signal, or when a sidecar exits on its own (counted as a failure). */
function untilStopOrExit(report: DemoReport, sidecars: ReadonlyMap<Workload, SidecarProcess>, stop: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stop.aborted) return resolve();
    stop.addEventListener('abort', () => resolve(), { once: true });
    for (const [w, p] of sidecars) {
      void p.exited.then((status) => {
        // Exit 0 is a sidecar that got the terminal's Ctrl-C before we did.
        if (stop.aborted || status === 0) return;
        report.say(`the ${w} sidecar exited unexpectedly (${status}); stopping the demo. Last lines:\n${p.tail(15)}`);
        report.fail();
        resolve();
      });
    }
  });
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
