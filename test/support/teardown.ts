/**
 * A registry of undo actions for tests that change the machine (network
 * namespaces, bridges, iptables rules, /etc/netns files, processes).
 * Every step that creates something registers how to remove it right
 * after it succeeded; `run()` undoes everything in reverse order, and a
 * process 'exit' hook (also reached on SIGINT/SIGTERM) runs whatever is
 * left synchronously, so a crashed or killed test still cleans up.
 */
import { spawnSync } from 'node:child_process';

/** One undo step. `sync` must work inside a process 'exit' handler (no promises). */
interface UndoAction {
  readonly label: string;
  readonly sync: () => void;
  readonly async?: (() => Promise<void>) | undefined;
}

const live = new Set<Teardown>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const t of [...live]) t.runSync();
  });
  // A signal ends the process without 'exit' unless someone calls
  // process.exit; spire.ts does the same, and either handler is enough.
  for (const [sig, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(sig, () => process.exit(status));
  }
}

/** Undo actions run in reverse order of registration, exactly once. */
export class Teardown {
  readonly #actions: UndoAction[] = [];
  /** Problems met while undoing (an action that threw); the caller may report them. */
  readonly problems: string[] = [];

  constructor() {
    installExitHook();
    live.add(this);
  }

  /**
   * Registers an undo step. `sync` is required (it is what the exit hook
   * runs); `async` is preferred by {@link run} when given, e.g. to stop a
   * process gracefully before killing it.
   */
  add(label: string, sync: () => void, async?: () => Promise<void>): void {
    this.#actions.push({ label, sync, async });
  }

  /** Registers a command to run (no shell) on teardown; a failure is recorded, not thrown. */
  addCommand(label: string, argv: readonly string[], opts: { ignoreFailure?: boolean } = {}): void {
    this.add(label, () => {
      const [cmd, ...args] = argv;
      const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 20_000 });
      if (r.status !== 0 && !opts.ignoreFailure) {
        throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`);
      }
    });
  }

  /** How many actions are still pending. */
  get pending(): number {
    return this.#actions.length;
  }

  /** Undoes everything, newest first, preferring the async form. */
  async run(): Promise<void> {
    while (this.#actions.length > 0) {
      const a = this.#actions.pop()!;
      try {
        if (a.async) await a.async();
        else a.sync();
      } catch (err) {
        this.problems.push(`${a.label}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    live.delete(this);
  }

  /** Synchronous form of {@link run}, for the process 'exit' hook. */
  runSync(): void {
    while (this.#actions.length > 0) {
      const a = this.#actions.pop()!;
      try {
        a.sync();
      } catch (err) {
        this.problems.push(`${a.label}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    live.delete(this);
  }
}
