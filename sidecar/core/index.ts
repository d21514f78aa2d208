/**
 * core: the vocabulary every other folder shares: the error base class, the
 * injectable clock and the logger interface. It depends on nothing else in
 * the project and must stay free of I/O.
 */
export { SidecarError, errorCode, describeError } from './errors.ts';
export { systemClock, ManualClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { silentLogger } from './logger.ts';
export { deepFreeze } from './deep-freeze.ts';
export type { Logger } from './logger.ts';
