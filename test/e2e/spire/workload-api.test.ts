/**
 * Our Workload API client against a real SPIRE v1.15.3 server and agent.
 * Workloads are told apart by uid (`unix:uid:<n>` selectors), so the client
 * scripts run as uids 1001–1004; that needs root, Go and a C compiler (to
 * build SPIRE once). Under CI=true a missing requirement fails the test.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { requireTools } from '../../support/tools.ts';
import { assertReachableByOthers, nodeBin, projectRoot, runAs, spawnAs, startSpire, type Spire } from '../../support/spire.ts';
import { join } from 'node:path';

const td = 'example.org';
const clientScript = 'test/e2e/spire/x509-client.ts';

type Event = Record<string, unknown> & { event: string };

/** A running x509-client.ts under some uid, with the JSON events it printed so far. */
class Workload {
  readonly events: Event[] = [];
  readonly stderr: string[] = [];
  readonly #proc: ChildProcess;
  #waiters: (() => void)[] = [];

  constructor(spire: Spire, uid: number) {
    this.#proc = spawnAs({ uid, gid: uid }, nodeBin, ['--disable-warning=ExperimentalWarning', clientScript, spire.socketAddress], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.#proc.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as Event);
      } catch {
        this.stderr.push(`stdout: ${line}`);
      }
      for (const w of this.#waiters) w();
    });
    createInterface({ input: this.#proc.stderr! }).on('line', (line) => this.stderr.push(line));
    this.#proc.on('exit', () => {
      for (const w of this.#waiters) w();
    });
  }

  get exited(): boolean {
    return this.#proc.exitCode !== null || this.#proc.signalCode !== null;
  }

  /** Resolves with the first event (from `from` on) matching `pred`; rejects after `ms` or if the process exits. */
  waitFor(pred: (e: Event) => boolean, ms: number, from = 0): Promise<Event> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.slice(from).find(pred);
        if (hit) {
          done();
          resolve(hit);
          return true;
        }
        if (this.exited) {
          done();
          reject(new Error(`workload exited (${this.#proc.exitCode ?? this.#proc.signalCode}); stderr:\n${this.stderr.join('\n')}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching event within ${ms} ms; events: ${JSON.stringify(this.events.map((e) => e.event))}; stderr:\n${this.stderr.join('\n')}`));
      }, ms);
      const waiter = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.#waiters.push(waiter);
    });
  }

  stop(): void {
    if (!this.exited) this.#proc.kill('SIGTERM');
  }
}

/** Normalises PEM for comparison (line endings, trailing space). */
const pem = (s: unknown): string => String(s).replace(/\r/g, '').trim();

test('SPIRE v1.15.3 Workload API', { timeout: 170_000 }, async (t) => {
  if (!requireTools(t, ['go', 'cc'], { root: true })) return;
  // The workloads run as uids without groups: they must reach the project.
  assertReachableByOthers([
    { path: nodeBin, exec: true },
    { path: join(projectRoot, clientScript) },
    { path: join(projectRoot, 'sidecar', 'cli', 'main.ts') },
    { path: join(projectRoot, 'sidecar', 'workload', 'proto', 'workload.proto') },
    { path: join(projectRoot, 'node_modules', '@grpc', 'grpc-js', 'package.json') },
  ]);
  const spire = await startSpire({ trustDomain: td });
  const workloads: Workload[] = [];
  t.after(async () => {
    for (const w of workloads) w.stop();
    await spire.stop();
  });
  const start = (uid: number): Workload => {
    const w = new Workload(spire, uid);
    workloads.push(w);
    return w;
  };
  // On failure the SPIRE logs are the first thing to read; they go into the
  // test report before stop() removes the folder.
  const withLogs = (fn: (t: TestContext) => Promise<void>) => async (st: TestContext) => {
    try {
      await fn(st);
    } catch (err) {
      st.diagnostic(spire.logTail(60));
      throw err;
    }
  };
  const bundlePem = pem(await spire.bundlePem());

  await t.test(
    '(a) a uid-1001 workload gets its entry ID through X509Source; the chain verifies against the bundle',
    withLogs(async () => {
      const id = `spiffe://${td}/workload-a`;
      await spire.createEntry({ spiffeId: id, selectors: ['unix:uid:1001'] });
      const w = start(1001);
      const ready = await w.waitFor((e) => e.event === 'ready', 30_000);
      assert.equal(ready['spiffeId'], id);
      assert.equal(ready['verifiedId'], id);
      assert.equal(pem(ready['bundlePem']), bundlePem);
    }),
  );

  await t.test(
    '(b) a short-lived SVID rotates and the subscriber gets the new one: new serial, same ID',
    withLogs(async () => {
      const id = `spiffe://${td}/workload-b`;
      // 20 s TTL + SPIRE's 10 s backdating = 30 s lifetime; the agent renews
      // at half of it, i.e. about 5 s after issuance (plus its 1 s sync tick).
      await spire.createEntry({ spiffeId: id, selectors: ['unix:uid:1002'], x509SvidTtlSeconds: 20 });
      const w = start(1002);
      const ready = await w.waitFor((e) => e.event === 'ready', 30_000);
      assert.equal(ready['spiffeId'], id);
      const rotated = await w.waitFor((e) => e.event === 'update' && e['serial'] !== ready['serial'], 40_000);
      assert.equal(rotated['spiffeId'], id);
      assert.equal(rotated['verifiedId'], id);
      assert.notEqual(rotated['serial'], ready['serial']);
    }),
  );

  await t.test(
    '(c) a uid without an entry waits through PermissionDenied and is served once its entry exists',
    withLogs(async () => {
      const id = `spiffe://${td}/workload-c`;
      const w = start(1003);
      const denied = await w.waitFor((e) => e.event === 'log' && e['code'] === 'workload.no_identity', 20_000);
      assert.equal(denied['level'], 'warn');
      assert.equal(w.events.some((e) => e.event === 'ready'), false, 'not ready before the entry exists');
      assert.equal(w.exited, false, 'PermissionDenied is "not yet", not fatal');
      await spire.createEntry({ spiffeId: id, selectors: ['unix:uid:1003'] });
      const ready = await w.waitFor((e) => e.event === 'ready', 30_000);
      assert.equal(ready['spiffeId'], id);
      assert.equal(ready['verifiedId'], id);
    }),
  );

  await t.test(
    '(d) `spiffe-sidecar svid --json` and `spire-agent api fetch x509 -output json` agree for the same uid',
    withLogs(async () => {
      const id = `spiffe://${td}/workload-d`;
      await spire.createEntry({ spiffeId: id, selectors: ['unix:uid:1004'] });
      const who = { uid: 1004, gid: 1004 };
      // The agent may need a sync tick before it serves the new entry.
      let spireOut: { svids: { spiffe_id: string }[] } | undefined;
      for (let i = 0; i < 40 && !spireOut; i++) {
        const r = await runAs(who, spire.agentBin, ['api', 'fetch', 'x509', '-socketPath', spire.socketPath, '-output', 'json']);
        if (r.code === 0) spireOut = JSON.parse(r.stdout) as { svids: { spiffe_id: string }[] };
        else await new Promise((res) => setTimeout(res, 500));
      }
      assert.ok(spireOut, 'spire-agent api fetch never succeeded');
      const ours = await runAs(who, nodeBin, ['--disable-warning=ExperimentalWarning', 'sidecar/cli/main.ts', 'svid', '--json', '--socket', spire.socketAddress]);
      assert.equal(ours.code, 0, ours.stderr);
      const doc = JSON.parse(ours.stdout) as { svids: { spiffeId: string }[]; bundles: Record<string, number> };
      assert.deepEqual(
        doc.svids.map((s) => s.spiffeId),
        spireOut.svids.map((s) => s.spiffe_id),
      );
      assert.equal(doc.svids[0]?.spiffeId, id);
      assert.ok((doc.bundles[td] ?? 0) >= 1);
    }),
  );
});
