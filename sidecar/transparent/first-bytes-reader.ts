import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../core/index.ts';

/** How reading a connection's first bytes ended. */
export type FirstBytesEnd<T> =
  /** `decide` returned a value. */
  | { readonly kind: 'decided'; readonly value: T }
  /** Nothing decided within the wait (a server-first protocol, or a slow client). */
  | { readonly kind: 'timeout' }
  /** `maxBytes` arrived without a decision. */
  | { readonly kind: 'full' }
  /** The client closed, half-closed or failed first; its bytes are dropped and the socket destroyed. */
  | { readonly kind: 'closed' };

/** Limits of {@link readFirstBytes}. */
export interface FirstBytesLimits {
  /** The longest wait for a decision, from the call on. */
  readonly timeoutMs: number;
  /** Bytes buffered at most before giving up on a decision. */
  readonly maxBytes: number;
  readonly clock: Clock;
}

/**
 * Reads a connection's first bytes until `decide` returns a value, then
 * pushes every byte read back into the socket (so whoever takes it over
 * reads the stream from its first byte) and leaves it paused. Also ends
 * without a decision after `timeoutMs`, or once `maxBytes` are buffered,
 * both with the bytes pushed back likewise. `done` runs exactly once.
 *
 * The wait is absolute, not an idle timer, so a client trickling one byte
 * at a time cannot hold a connection undecided for longer.
 */
export function readFirstBytes<T>(
  socket: Socket,
  limits: FirstBytesLimits,
  decide: (bytes: Buffer) => T | undefined,
  done: (end: FirstBytesEnd<T>, bytes: Buffer) => void,
): void {
  let buffered: Buffer = EMPTY;
  let finished = false;
  let timer: TimerHandle | undefined;
  const finish = (end: FirstBytesEnd<T>): void => {
    if (finished) return;
    finished = true;
    timer?.cancel();
    socket.removeListener('data', onData);
    socket.removeListener('end', onClosed);
    socket.removeListener('close', onClosed);
    if (end.kind === 'closed') {
      socket.destroy();
      done(end, EMPTY);
      return;
    }
    socket.pause();
    if (buffered.length > 0) socket.unshift(buffered);
    done(end, buffered);
  };
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const value = decide(buffered);
    if (value !== undefined) finish({ kind: 'decided', value });
    else if (buffered.length >= limits.maxBytes) finish(FULL);
  };
  const onClosed = (): void => finish(CLOSED);
  timer = limits.clock.setTimeout(() => finish(TIMEOUT), limits.timeoutMs);
  socket.on('data', onData);
  socket.once('end', onClosed);
  socket.once('close', onClosed);
  // A listener alone does not restart a socket that was paused explicitly.
  socket.resume();
}

const EMPTY = Buffer.alloc(0);
const FULL = Object.freeze({ kind: 'full' as const });
const CLOSED = Object.freeze({ kind: 'closed' as const });
const TIMEOUT = Object.freeze({ kind: 'timeout' as const });
