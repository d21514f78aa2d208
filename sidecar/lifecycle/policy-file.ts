import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { describeError, errorCode, type Clock, type Logger, type TimerHandle } from '../core/index.ts';
import { loadPolicyText, type Policy, type PolicyContext } from '../policy/index.ts';
import { AppError } from './app-error.ts';

/** Options of {@link PolicyFile.load}. */
export interface PolicyFileOptions {
  /** The policy file; relative paths are resolved against the working directory. */
  readonly path: string;
  /** What the policy guards: HTTP requests (default) or TCP tunnels, whose rules cannot look at requests. */
  readonly context?: PolicyContext | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Called after each failed reload; the previous policy stays in force. */
  readonly onReloadError: (err: unknown) => void;
  /** Quiet time after the last change event before the file is read (default 150 ms). */
  readonly debounceMs?: number;
  /** The file is also re-read this often, in case no change event arrives (default 10 s; 0 = never). */
  readonly pollMs?: number;
}

/**
 * A policy loaded from a file and reloaded when the file changes.
 *
 * Why the directory is watched, not the file: Kubernetes mounts a ConfigMap
 * as `policy.yaml -> ..data/policy.yaml` and updates it by swapping the
 * `..data` symlink; the file's own inode never changes, so a watch on it
 * would never fire. Every event in the directory schedules a debounced
 * re-read through the path (following the new symlinks), and only content
 * that differs from the last text seen is parsed. A slow poll covers file
 * systems where change events do not arrive.
 *
 * A file that does not parse keeps the previous policy: a typo must not
 * open the workload to everyone, nor lock everyone out.
 */
export class PolicyFile {
  readonly path: string;
  readonly #o: PolicyFileOptions;
  readonly #log: Logger;
  #policy: Policy;
  /** Text of the last read, good or bad: the same bad file is reported once, not on every event. */
  #lastText: string;
  #lastReadError: string | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: TimerHandle | undefined;
  #poll: TimerHandle | undefined;
  #checking: Promise<void> | undefined;
  #again = false;
  #closed = false;

  private constructor(path: string, o: PolicyFileOptions, text: string, policy: Policy) {
    this.path = path;
    this.#o = o;
    this.#log = o.logger;
    this.#lastText = text;
    this.#policy = policy;
  }

  /** Reads and parses the file; throws AppError 'app.policy_file' naming it when it cannot. */
  static async load(o: PolicyFileOptions): Promise<PolicyFile> {
    const path = resolve(o.path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new AppError('app.policy_file', `app: cannot read policy file ${path}: ${describeError(err)}`, { cause: err });
    }
    let policy: Policy;
    try {
      policy = loadPolicyText(text, path, { context: o.context ?? 'http' });
    } catch (err) {
      throw new AppError('app.policy_file', `app: policy file ${path} is invalid: ${describeError(err)}`, { cause: err });
    }
    return new PolicyFile(path, o, text, policy);
  }

  /** The policy in force. */
  current(): Policy {
    return this.#policy;
  }

  /** Starts watching the file's directory (and polling). */
  watch(): void {
    if (this.#closed) return;
    this.#startWatcher();
    this.#schedulePoll();
  }

  /** Re-reads the file now; resolves when done (a check already running is followed by one more). */
  check(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#checking) {
      this.#again = true;
      return this.#checking;
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false;
        await this.#reload();
      } while (this.#again && !this.#closed);
    };
    this.#checking = run().finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#debounce?.cancel();
    this.#poll?.cancel();
  }

  #startWatcher(): void {
    if (this.#watcher || this.#closed) return;
    try {
      const w = watch(dirname(this.path), { persistent: false }, () => this.#schedule());
      w.on('error', (err) => {
        this.#log.warn({ path: this.path, err: describeError(err) }, 'policy file watch failed; polling only until it can be restored');
        w.close();
        if (this.#watcher === w) this.#watcher = undefined;
      });
      this.#watcher = w;
    } catch (err) {
      this.#log.warn({ path: this.path, err: describeError(err) }, 'cannot watch the policy file directory; polling only');
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#debounce?.cancel();
    this.#debounce = this.#o.clock.setTimeout(() => void this.check(), this.#o.debounceMs ?? 150);
  }

  #schedulePoll(): void {
    const every = this.#o.pollMs ?? 10_000;
    if (every <= 0 || this.#closed) return;
    this.#poll = this.#o.clock.setTimeout(() => {
      this.#startWatcher();
      void this.check().finally(() => this.#schedulePoll());
    }, every);
  }

  async #reload(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? describeError(err);
      if (code === this.#lastReadError || this.#closed) return;
      this.#lastReadError = code;
      this.#lastText = '';
      this.#fail(err);
      return;
    }
    this.#lastReadError = undefined;
    if (text === this.#lastText || this.#closed) return;
    this.#lastText = text;
    let policy: Policy;
    try {
      policy = loadPolicyText(text, this.path, { context: this.#o.context ?? 'http' });
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#policy = policy;
    this.#log.info({ path: this.path, rules: policy.rules.length }, 'policy reloaded');
  }

  #fail(err: unknown): void {
    this.#log.error(
      { path: this.path, file: basename(this.path), code: errorCode(err) ?? (err as NodeJS.ErrnoException).code, err: describeError(err) },
      'policy reload failed; keeping the previous policy',
    );
    try {
      this.#o.onReloadError(err);
    } catch {
      // metrics must not break the watcher
    }
  }
}
