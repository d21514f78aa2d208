/**
 * One run of a network-namespace pod test (test/e2e/k8s-pods,
 * transparent-capture, bank-chain): a tagged run folder, a teardown, the
 * pod network, a real SPIRE server and agent with one entry per sidecar uid,
 * the init container's `iptables apply` per pod, processes started inside
 * pods, readiness of the sidecars, sub-tests that mark the run failed (so
 * every log is printed), and the last test's check that nothing is left.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { OTHER_USER_ENV, nodeBin, projectRoot, startSpire, type Credentials, type Spire } from './spire.ts';
import { Teardown } from './teardown.ts';
import { createPodNetwork, inNamespace, leftovers, mustRun, type PodNetwork, type PodNetworkOptions } from './netns.ts';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import { dumpLogs, waitSidecarReady } from './pod-checks.ts';

/** The ports the injector gives every pod's sidecar. */
export const POD_PORTS = { inbound: 15006, outbound: 15001, admin: 15020 } as const;
/** The CLI entry point, relative to the project root. */
export const SIDECAR_MAIN = join('sidecar', 'cli', 'main.ts');
/** Node 24 without the type-stripping warning: the start of every node command in a pod. */
export const NODE_ARGV: readonly string[] = [nodeBin, '--disable-warning=ExperimentalWarning'];
/** The environment of a process started in a pod unless it is given another. */
export const POD_ENV: Readonly<Record<string, string>> = OTHER_USER_ENV;

/** Runs as `uid`, group `uid` (each container of a pod has its own). */
export const as = (uid: number): Credentials => ({ uid, gid: uid });

/** What the leftover test needs from the run before it. */
export interface PodRunRecord {
  tag?: string;
  spireDir?: string;
  teardownProblems?: string[];
}

/** Options of {@link PodRun.start}. */
export interface PodRunOptions {
  /** Names the run folder (`ss<tag>-<label>-`) and the timing diagnostic. */
  readonly label: string;
  readonly trustDomain: string;
  /** The pod network, without the teardown and tag the run supplies. */
  readonly network: Omit<PodNetworkOptions, 'teardown' | 'tag'>;
  /** One SPIRE entry per sidecar: its SPIFFE ID, issued to `unix:uid:<uid>`. */
  readonly entries: readonly { readonly spiffeId: string; readonly uid: number }[];
  /** Filled in as the run goes, for {@link assertNoLeftovers}. */
  readonly record: PodRunRecord;
}

/** One pod's `iptables apply`: its sidecar uid and, when set, the inbound ports to capture (`''` = none). */
export interface PodIptables {
  readonly pod: string;
  readonly uid: number;
  readonly inboundPorts?: string;
}

/** A pod test's run: everything it starts is undone by its teardown, in t.after, failing or not. */
export class PodRun {
  readonly tag = randomBytes(3).toString('hex');
  readonly teardown = new Teardown();
  readonly started = Date.now();
  /** The run folder (configs, logs, policies); kept when PODS_KEEP_DIR=1. */
  readonly dir: string;
  /** Set by a failed step or sub-test: the after hook prints every log. */
  failed = false;
  readonly #t: TestContext;
  readonly #logSources: (readonly [string, () => string])[] = [];
  #net: PodNetwork | undefined;
  #spire: Spire | undefined;

  private constructor(t: TestContext, o: PodRunOptions) {
    this.#t = t;
    o.record.tag = this.tag;
    this.dir = mkdtempSync(join(tmpdir(), `ss${this.tag}-${o.label}-`));
    chmodSync(this.dir, 0o755);
    const dir = this.dir;
    this.teardown.add(`remove ${dir}`, () => {
      if (process.env['PODS_KEEP_DIR'] !== '1') rmSync(dir, { recursive: true, force: true });
    });
    t.after(async () => {
      if (this.failed) dumpLogs(t, dir, this.#logSources);
      await this.teardown.run();
      o.record.teardownProblems = this.teardown.problems;
      t.diagnostic(`${o.label} e2e took ${this.#seconds()} s including teardown`);
    });
  }

  /** Creates the run folder, the pod network and SPIRE with the entries. */
  static async start(t: TestContext, o: PodRunOptions): Promise<PodRun> {
    const run = new PodRun(t, o);
    run.#net = await run.step('pod network', () => createPodNetwork({ ...o.network, teardown: run.teardown, tag: run.tag }));
    const spire = await run.step('SPIRE', () => startSpire({ trustDomain: o.trustDomain }));
    run.#spire = spire;
    o.record.spireDir = spire.dir;
    run.addLogSource('spire', () => spire.logTail(40));
    // spire.ts has its own exit hook; this is the orderly stop.
    run.teardown.add('stop SPIRE', () => {}, () => spire.stop());
    await run.step('SPIRE entries', async () => {
      for (const e of o.entries) await spire.createEntry({ spiffeId: e.spiffeId, selectors: [`unix:uid:${e.uid}`] });
    });
    return run;
  }

  get net(): PodNetwork {
    return this.#net!;
  }

  get spire(): Spire {
    return this.#spire!;
  }

  /** Seconds since the run started, one decimal. */
  #seconds(): string {
    return ((Date.now() - this.started) / 1000).toFixed(1);
  }

  /** Adds a log printed (after the run folder's `.log` files) when the run failed. */
  addLogSource(name: string, tail: () => string): void {
    this.#logSources.push([name, tail]);
  }

  /** Runs one setup step: a failure names the step and marks the run failed. */
  async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.#t.diagnostic(`${what} done at ${this.#seconds()} s`);
      return out;
    } catch (err) {
      this.failed = true;
      throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** A sub-test whose failure marks the run failed. */
  sub(name: string, fn: () => Promise<void>): Promise<void> {
    return this.#t.test(name, async () => {
      try {
        await fn();
      } catch (err) {
        this.failed = true;
        throw err;
      }
    });
  }

  /** Writes `text` to `name` in the run folder, readable by every uid; returns its path. */
  writeFile(name: string, text: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, text, { mode: 0o644 });
    return file;
  }

  /** Starts `argv` in pod `where` (a pod name or a namespace) as `who`, logging to `<name>.log`; stopped on teardown. */
  startIn(name: string, where: string | { readonly ns: string }, who: Credentials | undefined, argv: readonly string[], env: Readonly<Record<string, string>> = POD_ENV): LoggedProcess {
    const ns = typeof where === 'string' ? this.net.pod(where).ns : where.ns;
    return startLogged({ name, argv: inNamespace(ns, argv, who), cwd: projectRoot, logFile: join(this.dir, `${name}.log`), teardown: this.teardown, env: { ...env } });
  }

  /**
   * The init container's job, through the same CLI code path, as root in
   * each pod. The rules live in the pod's namespace and go with it; the
   * `iptables clean` on teardown also covers a namespace that outlives the run.
   */
  async applyIptables(pods: readonly PodIptables[]): Promise<void> {
    const cli = [...NODE_ARGV, join(projectRoot, SIDECAR_MAIN), 'iptables'];
    await Promise.all(
      pods.map((p) => {
        const ns = this.net.pod(p.pod).ns;
        this.teardown.addCommand(`iptables clean in ${p.pod}`, inNamespace(ns, [...cli, 'clean']), { ignoreFailure: true });
        const ports = ['--proxy-uid', String(p.uid), '--inbound-port', String(POD_PORTS.inbound), '--outbound-port', String(POD_PORTS.outbound), '--admin-port', String(POD_PORTS.admin)];
        return mustRun(inNamespace(ns, [...cli, 'apply', ...ports, ...(p.inboundPorts !== undefined ? ['--inbound-ports', p.inboundPorts] : [])]), 60_000);
      }),
    );
  }

  /**
   * Waits for every sidecar's /readyz on its pod IP; returns the pods whose
   * sidecar did not become ready, with why (empty when all did).
   */
  async sidecarsReady(sidecars: ReadonlyMap<string, LoggedProcess>, timeoutMs: number): Promise<Map<string, string>> {
    const down = new Map<string, string>();
    const readyAt: string[] = [];
    await Promise.all(
      [...sidecars].map(async ([pod, p]) => {
        try {
          await waitSidecarReady(this.net.pod(pod).ip, POD_PORTS.admin, p, timeoutMs);
          readyAt.push(`${pod} ${this.#seconds()} s`);
        } catch (err) {
          down.set(pod, err instanceof Error ? err.message : String(err));
        }
      }),
    );
    this.#t.diagnostic(`sidecars ready: ${readyAt.join(', ')}${down.size > 0 ? `; not ready: ${[...down.keys()].join(', ')}` : ''}`);
    return down;
  }
}

/** The last test of a pod test file: the run's teardown left no namespace, link, /etc/netns entry, rule or process. */
export function assertNoLeftovers(t: TestContext, record: PodRunRecord, what: string): void {
  if (record.tag === undefined) {
    t.skip(`the ${what} test did not run`);
    return;
  }
  assert.deepEqual(record.teardownProblems ?? [], [], 'teardown steps failed');
  const left = leftovers(record.tag, record.spireDir !== undefined ? [record.spireDir] : []);
  assert.deepEqual(left, [], `left behind by run ${record.tag}`);
}

/** Throws when any sidecar in `down` is not ready, with each one's reason. */
export function assertAllReady(down: ReadonlyMap<string, string>): void {
  if (down.size > 0) throw new Error(`sidecar not ready: ${[...down].map(([pod, why]) => `${pod}: ${why.slice(0, 1500)}`).join('\n')}`);
}
