/** Something to undo at the end: stop a process, close a server, remove a directory. */
export type Undo = () => Promise<unknown> | unknown;

/**
 * What the demo started, undone newest first at the end. Every step runs
 * even when an earlier one fails; a failure is reported, never thrown, so
 * one stuck process cannot leave the others running.
 */
export class Teardown {
  readonly #steps: Undo[] = [];

  /** Adds a step; it runs before every step added earlier. */
  add(step: Undo): void {
    this.#steps.push(step);
  }

  /** Runs every step, newest first, once; `report` gets one line per failed step. */
  async run(report: (line: string) => void, describe: (err: unknown) => string): Promise<void> {
    const steps = this.#steps.splice(0).reverse();
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        report(`cleanup: ${describe(err)}`);
      }
    }
  }
}
