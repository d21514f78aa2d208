/**
 * The sidecar child process of the integration tests: the demo's
 * {@link SidecarProcess} (spawn, admin requests, readiness, clean stop)
 * plus what only tests need: waiting for a log line, past or future.
 * test/support/sidecar-harness.ts exports it under the name
 * `SidecarProcess`, with startSidecar() and the other test helpers.
 */
import { SidecarProcess, type LogLine, type SidecarProcessOptions } from '../../sidecar/testing.ts';

interface LogWaiter {
  readonly pred: (l: LogLine) => boolean;
  readonly resolve: (l: LogLine) => void;
}

/** A `spiffe-sidecar` child process whose log lines a test can wait for. */
export class TestSidecarProcess extends SidecarProcess {
  readonly #waiters = new Set<LogWaiter>();

  /** Starts the process (it is not waited for; see waitReady()). */
  static override spawn(o: SidecarProcessOptions): TestSidecarProcess {
    return new TestSidecarProcess(o);
  }

  /** Resolves with the first line (past or future) matching `pred`; rejects on timeout or exit. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const past = this.lines.find(pred);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const w: LogWaiter = {
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`sidecar: no matching log line within ${timeoutMs} ms; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.#waiters.add(w);
      void this.exited.then((status) => {
        if (this.#waiters.delete(w)) {
          clearTimeout(timer);
          reject(new Error(`sidecar exited (${status}) before the expected log line; last lines:\n${this.tail()}`));
        }
      });
    });
  }

  protected override onLogLine(line: LogLine): void {
    for (const w of [...this.#waiters]) {
      if (w.pred(line)) {
        this.#waiters.delete(w);
        w.resolve(line);
      }
    }
  }
}
