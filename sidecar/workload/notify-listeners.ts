import { describeError, type Logger } from '../core/index.ts';

/**
 * Calls every listener with `value`; one that throws is logged and the rest
 * still run (a copy of the set is walked, so a listener may unsubscribe).
 */
export function notifyListeners<T>(listeners: ReadonlySet<(value: T) => void>, value: T, logger: Logger, event: string): void {
  for (const fn of [...listeners]) {
    try {
      fn(value);
    } catch (e) {
      logger.error({ err: describeError(e) }, `an '${event}' listener threw`);
    }
  }
}
