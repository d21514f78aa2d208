import type { Writable } from 'node:stream';

/**
 * The demo's printed report: plain lines, and check lines (`ok` or
 * `FAILED`) whose failures it counts, so every part of the tour reports the
 * same way and the total decides the exit code of `demo --once`.
 */
export class DemoReport {
  readonly #out: Writable;
  #checks = 0;
  #failures = 0;
  #sections = 0;

  constructor(out: Writable) {
    this.#out = out;
  }

  /** Prints one line (an empty one without `line`). */
  say(line = ''): void {
    this.#out.write(line + '\n');
  }

  /** Prints the heading of the next numbered part of the tour: `[n] title`. */
  section(title: string): void {
    this.say(`[${++this.#sections}] ${title}`);
  }

  /** Prints a check line and counts it; `why` is printed under a failed one. Returns `ok`. */
  check(ok: boolean, text: string, why = ''): boolean {
    this.#checks++;
    if (!ok) this.#failures++;
    this.say(`    ${ok ? 'ok    ' : 'FAILED'} ${text}${!ok && why ? `\n           ${why}` : ''}`);
    return ok;
  }

  /** Counts a failure that has no check line of its own (a process that exited unexpectedly). */
  fail(): void {
    this.#failures++;
  }

  /** Check lines printed so far. */
  get checks(): number {
    return this.#checks;
  }

  /** Failed checks, plus failures counted by {@link fail}. */
  get failures(): number {
    return this.#failures;
  }
}
