import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { describeError, isSidecarEnvName } from '../core/index.ts';
import { DevAgent } from '../devagent/index.ts';
import { BankChainDemo } from './bank-chain-demo.ts';
import { callThroughFrontend, SPOOFED_ID, startBackendApp, startFrontendApp, type BackendEcho, type DemoApp } from './demo-apps.ts';
import { adminPorts, ID, printOverview, printTries, sidecarConfigs, TD, WORKLOADS, type DemoPorts, type Workload } from './demo-layout.ts';
import { DemoReport } from './demo-report.ts';
import { EndUserDemo } from './end-user-demo.ts';
import { freePorts } from './free-ports.ts';
import { httpCall } from './http-call.ts';
import { SidecarProcess } from './sidecar-process.ts';
import { Teardown } from './teardown.ts';

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

/** How long a sidecar gets to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

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

/** What {@link DemoMesh} brought up: the mesh the tour runs against. */
interface Mesh {
  readonly ports: DemoPorts;
  readonly backendApp: DemoApp;
  readonly endUser: EndUserDemo | undefined;
  readonly chain: BankChainDemo | undefined;
  readonly policyPath: string;
}

/**
 * `spiffe-sidecar demo`: three workloads on loopback, each with a sidecar as
 * a real `spiffe-sidecar run` process, on the embedded dev agent, and an
 * authorization server for end users (when the checkout has one), with the
 * bank chain's three more workloads (bank-chain-demo.ts). Drives a few
 * requests and prints what each sidecar did: the allowed call with the
 * caller identity the backend saw, the intruder's 403, the spoofed header
 * replaced, end users' tokens verified and authorized by their claims, the
 * token each hop of the chain got by exchange, an SVID rotation. Then
 * (unless `once`) it keeps running with curl lines to try until the stop
 * signal. Everything it started, and its temp directory, is removed at the
 * end. Resolves with the exit code: 0 when every check passed.
 */
export function runDemo(o: DemoOptions): Promise<number> {
  return new DemoMesh(o).run();
}

/**
 * One run of the demo: what it started (torn down newest first at the
 * end, whatever happened), the sidecar processes, and the report.
 */
class DemoMesh {
  readonly #o: DemoOptions;
  readonly #report: DemoReport;
  readonly #teardown = new Teardown();
  readonly #sidecars = new Map<Workload, SidecarProcess>();
  readonly #dir: string;
  readonly #childEnv: Record<string, string | undefined>;

  constructor(o: DemoOptions) {
    this.#o = o;
    this.#report = new DemoReport(o.out);
    // Unix socket paths are short (108 bytes): a long TMPDIR would not fit them.
    const base = tmpdir().length > 40 ? '/tmp' : tmpdir();
    const dir = mkdtempSync(join(base, 'ssd-demo-'));
    this.#dir = dir;
    this.#teardown.add(() => rmSync(dir, { recursive: true, force: true }));
    this.#childEnv = Object.fromEntries(Object.entries(o.env).filter(([k]) => !isSidecarEnvName(k)));
  }

  /** Runs the tour and tears everything down; resolves with the exit code. */
  async run(): Promise<number> {
    try {
      return await this.#tour();
    } catch (err) {
      return this.#failed(err);
    } finally {
      await this.#teardown.run((line) => this.#say(line), describeError);
    }
  }

  #say(line?: string): void {
    this.#report.say(line);
  }

  /** Throws Interrupted once the stop signal fired, between two parts of the tour. */
  #interrupted(): void {
    if (this.#o.stopSignal.aborted) throw new Interrupted();
  }

  async #tour(): Promise<number> {
    this.#intro();
    const mesh = await this.#start();
    printOverview(this.#report, mesh.ports, mesh.endUser, mesh.chain);
    this.#say(`  backend policy: ${ID.frontend} may call /hello${mesh.endUser ? `; ${mesh.endUser.policySummary()}` : ''} (${mesh.policyPath})`);
    this.#say();
    if (!(await this.#waitReady())) return 1;
    this.#interrupted();
    await this.#showAllowed(mesh.ports);
    await this.#showIntruder(mesh);
    await this.#showSpoofed(mesh.ports);
    if (mesh.endUser !== undefined) {
      await mesh.endUser.run(this.#report, mesh.ports.feApp, mesh.backendApp);
      this.#endPart();
    }
    if (mesh.chain) {
      await mesh.chain.run(this.#report, mesh.ports.feOut);
      this.#endPart();
    }
    await this.#showRotation(mesh.ports);
    await this.#showMetrics(mesh.ports);
    this.#summary();
    if (this.#o.once) return this.#report.failures === 0 ? 0 : 1;
    this.#say();
    await printTries(this.#report, mesh.ports, { dir: this.#dir, policyPath: mesh.policyPath, svidTtlMs: this.#o.svidTtlMs, endUser: mesh.endUser, chain: mesh.chain });
    await this.#untilStopOrExit();
    this.#say('stopping...');
    return this.#report.failures === 0 ? 0 : 1;
  }

  /** A blank line after a part of the tour, then stop if asked to. */
  #endPart(): void {
    this.#say();
    this.#interrupted();
  }

  #intro(): void {
    this.#say(`spiffe-sidecar demo: workloads in trust domain ${TD} (frontend, backend, intruder, and with the authorization server`);
    this.#say(`the bank chain edge, accounts, payments), each behind its own sidecar process, on the embedded dev agent`);
    this.#say(`(SVID TTL ${this.#o.svidTtlMs / 1000}s, rotated at half-life). Working directory ${this.#dir}.`);
    this.#say();
  }

  /** Starts the dev agent, the apps, the end-user part and the bank chain, and spawns the three sidecars. */
  async #start(): Promise<Mesh> {
    const [feApp, feOut, feAdmin, beApp, beIn, beAdmin, inOut, inAdmin] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
    const ports: DemoPorts = { feApp, feOut, feAdmin, beApp, beIn, beAdmin, inOut, inAdmin };
    const agent = await DevAgent.start({
      trustDomains: [{ name: TD }],
      workloads: [...WORKLOADS.map((w) => ({ socketPath: join(this.#dir, `${w}.sock`), ids: [ID[w]] })), ...BankChainDemo.workloads(this.#dir, TD)],
      svidTtlMs: this.#o.svidTtlMs,
    });
    this.#teardown.add(() => agent.stop());
    const backendApp = await startBackendApp(beApp);
    this.#teardown.add(() => backendApp.close());
    const frontendApp = await startFrontendApp(feApp, feOut);
    this.#teardown.add(() => frontendApp.close());
    const { endUser, chain } = await this.#startUsers(agent);
    const policyPath = join(this.#dir, 'backend-policy.yaml');
    const rules = [{ name: 'frontend-calls-backend', from: [{ id: ID.frontend }], to: [{ paths: ['/hello'] }] }, ...(endUser ? [endUser.policyRule(ID.frontend)] : [])];
    writeFileSync(policyPath, stringify({ version: 2, rules }));
    this.#spawnSidecars(sidecarConfigs(this.#dir, ports, policyPath, endUser?.backendConfig() ?? {}, chain ? [chain.ingressRoute()] : []), adminPorts(ports));
    return { ports, backendApp, endUser, chain, policyPath };
  }

  /** The authorization server (when this checkout can run it) and the bank chain on it. */
  async #startUsers(agent: DevAgent): Promise<{ endUser: EndUserDemo | undefined; chain: BankChainDemo | undefined }> {
    const o = this.#o;
    // The checkout's root: main.ts sits in sidecar/cli/ (dist/cli/ when compiled).
    const projectRoot = resolve(dirname(o.mainScript), '..', '..');
    const serverAdditions = BankChainDemo.registration(this.#dir, agent.jwks(TD));
    const endUser = await EndUserDemo.prepare({ execPath: o.execPath, projectRoot, dir: this.#dir, env: this.#childEnv, serverAdditions }, this.#report);
    if (endUser !== undefined) this.#teardown.add(() => endUser.stop());
    const chainOptions = { execPath: o.execPath, mainScript: o.mainScript, dir: this.#dir, env: this.#childEnv, trustDomain: TD, ingressId: ID.frontend };
    const chain = endUser && (await BankChainDemo.start({ ...chainOptions, server: endUser.authorizationServer }));
    if (chain) this.#teardown.add(() => chain.stop());
    return { endUser, chain };
  }

  #spawnSidecars(configs: Record<Workload, Record<string, unknown>>, admins: Record<Workload, number>): void {
    for (const w of WORKLOADS) {
      const configPath = join(this.#dir, `${w}-sidecar.yaml`);
      writeFileSync(configPath, stringify({ ...configs[w], log: { level: 'info' } }));
      const sidecar = SidecarProcess.spawn({ execPath: this.#o.execPath, mainScript: this.#o.mainScript, configPath, adminPort: admins[w], env: this.#childEnv, logFile: join(this.#dir, `${w}-sidecar.log`) });
      this.#sidecars.set(w, sidecar);
      this.#teardown.add(() => sidecar.stopWithin(STOP_GRACE_MS));
    }
  }

  /** Waits for the three sidecars; false (and a failed check) when one is not ready in time. */
  async #waitReady(): Promise<boolean> {
    try {
      await untilStopped(Promise.all([...this.#sidecars.values()].map((s) => s.waitReady(30_000))), this.#o.stopSignal);
      return true;
    } catch (err) {
      if (err instanceof Interrupted) throw err;
      this.#report.check(false, 'all three sidecars ready', describeError(err));
      return false;
    }
  }

  #sidecar(w: Workload): SidecarProcess {
    return this.#sidecars.get(w)!;
  }

  async #showAllowed(p: DemoPorts): Promise<void> {
    const check = this.#report.check.bind(this.#report);
    this.#report.section(`frontend -> backend (frontend app -> its sidecar -> mTLS -> backend's sidecar -> backend app)`);
    const before = await svidOf(this.#sidecar('frontend'));
    const r1 = await callThroughFrontend(p.feApp, '/call?path=/hello');
    const after = await svidOf(this.#sidecar('frontend'));
    if (check(r1.backendStatus === 200, `allowed: ${r1.backendStatus} from the backend`, JSON.stringify(r1))) {
      const echo = r1.backend as BackendEcho;
      check(echo.callerSpiffeId === ID.frontend, `backend saw x-client-spiffe-id: ${echo.callerSpiffeId}`);
      check(echo.xfccParts?.uri === ID.frontend && echo.xfccParts.by === ID.backend, `backend saw x-forwarded-client-cert: ${shorten(echo.xfcc)}`);
      const hashes = [before?.leafSha256, after?.leafSha256];
      check(echo.xfccParts?.hash !== undefined && hashes.includes(echo.xfccParts.hash), "XFCC Hash is the SHA-256 of the frontend's certificate (from its /debug/svid)");
    }
    this.#endPart();
  }

  async #showIntruder(mesh: Mesh): Promise<void> {
    this.#report.section(`intruder (${ID.intruder}, a valid SVID of the same trust domain) -> backend`);
    const seen = mesh.backendApp.requests();
    const r2 = await httpCall(mesh.ports.inOut, '/hello', { headers: { host: 'backend' } });
    this.#report.check(r2.status === 403, `denied: ${r2.status} ${r2.body.trim()}`);
    this.#report.check(mesh.backendApp.requests() === seen, 'the backend app never saw the request');
    this.#endPart();
  }

  async #showSpoofed(p: DemoPorts): Promise<void> {
    this.#report.section(`the frontend app sends x-client-spiffe-id: ${SPOOFED_ID} (and a forged XFCC)`);
    const r3 = await callThroughFrontend(p.feApp, '/call-spoofed?path=/hello');
    const echo3 = r3.backend as Partial<BackendEcho>;
    this.#report.check(
      r3.backendStatus === 200 && echo3.callerSpiffeId === ID.frontend && echo3.xfccParts?.uri === ID.frontend,
      `backend saw x-client-spiffe-id: ${echo3.callerSpiffeId ?? '(none)'}: the spoofed value was replaced by the verified one`,
      JSON.stringify(r3),
    );
    this.#endPart();
  }

  async #showRotation(p: DemoPorts): Promise<void> {
    const check = this.#report.check.bind(this.#report);
    const waitMs = this.#o.svidTtlMs + 10_000;
    this.#report.section(`SVID rotation (the dev agent rotates at half-life; waiting up to ${Math.round(waitMs / 1000)}s)`);
    const backend = this.#sidecar('backend');
    const old = await svidOf(backend);
    const rotated = old ? await waitForNewSerial(backend, old.serial, waitMs, this.#o.stopSignal) : undefined;
    this.#interrupted();
    if (check(rotated !== undefined, `backend SVID serial ${short(old?.serial)} -> ${short(rotated?.serial)} (valid until ${rotated?.notAfter ?? '?'})`)) {
      const r4 = await callThroughFrontend(p.feApp, '/call?path=/hello');
      check(r4.backendStatus === 200, `frontend -> backend still allowed after the rotation: ${r4.backendStatus}`);
      const rotations = await backend.metric('sidecar_svid_rotations_total');
      check((rotations ?? 0) >= 1, `backend sidecar_svid_rotations_total ${rotations ?? 'missing'}`);
    }
    this.#say();
  }

  async #showMetrics(p: DemoPorts): Promise<void> {
    this.#report.section(`what the backend's sidecar counted (http://127.0.0.1:${p.beAdmin}/metrics)`);
    const text = (await this.#sidecar('backend').admin('/metrics')).body;
    const metrics = text.split('\n').filter((l) => /^sidecar_(requests_total|authz_decisions_total|token_checks_total|token_introspection_requests_total)\{/.test(l));
    for (const l of metrics) this.#say(`    ${l}`);
    this.#report.check(
      metrics.some((l) => l.includes('decision="deny"') && l.includes(`peer_spiffe_id="${ID.intruder}"`)),
      'the intruder is counted as denied, by SPIFFE ID',
    );
    this.#say();
  }

  #summary(): void {
    const { checks, failures } = this.#report;
    this.#say(failures === 0 ? `all ${checks} checks passed.` : `${failures} of ${checks} checks FAILED; sidecar logs are in ${this.#dir}/*-sidecar.log`);
    if (failures > 0) this.#printTails();
  }

  #printTails(): void {
    for (const [w, s] of this.#sidecars) this.#say(`--- ${w} sidecar, last lines:\n${s.tail(15)}`);
  }

  #failed(err: unknown): number {
    if (err instanceof Interrupted) {
      this.#say('interrupted; stopping...');
      return this.#o.once ? 130 : 0;
    }
    this.#say(`demo failed: ${describeError(err)}`);
    this.#printTails();
    return 1;
  }

  /** Resolves on the stop signal, or when a sidecar exits on its own (counted as a failure). */
  #untilStopOrExit(): Promise<void> {
    const stop = this.#o.stopSignal;
    return new Promise<void>((resolve) => {
      if (stop.aborted) return resolve();
      stop.addEventListener('abort', () => resolve(), { once: true });
      for (const [w, p] of this.#sidecars) {
        void p.exited.then((status) => {
          // Exit 0 is a sidecar that got the terminal's Ctrl-C before we did.
          if (stop.aborted || status === 0) return;
          this.#say(`the ${w} sidecar exited unexpectedly (${status}); stopping the demo. Last lines:\n${p.tail(15)}`);
          this.#report.fail();
          resolve();
        });
      }
    });
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
