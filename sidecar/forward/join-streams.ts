import type { Duplex } from 'node:stream';

/**
 * Joins two connected streams into one byte pipe (raw TCP mode): data both
 * ways with backpressure, half-close passed on, and when either side closes
 * or fails the other is destroyed. `onClose` runs once, after both closed.
 */
export function joinStreams(a: Duplex, b: Duplex, onClose: () => void): void {
  let open = 2;
  const closed = (): void => {
    if (--open === 0) onClose();
  };
  const onError = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', onError);
  b.on('error', onError);
  a.once('close', () => {
    b.destroy();
    closed();
  });
  b.once('close', () => {
    a.destroy();
    closed();
  });
  a.pipe(b);
  b.pipe(a);
}
