import type { Writable } from 'node:stream';

/**
 * Makes a closed standard stream a reason to stop rather than a crash. When
 * the reader of stdout goes away (`spiffe-sidecar svid | head -1`), Node
 * reports EPIPE as an 'error' event, which without a listener kills the
 * process with a stack trace. Here it calls `onClosed` once (the CLI stops
 * the command as on SIGTERM: output nobody reads is not worth producing, and
 * a sidecar must not keep serving with its log going nowhere) and swallows
 * the stream's later errors. Returns a function removing the listeners.
 */
export function guardStdio(streams: readonly Writable[], onClosed: (err: unknown) => void): () => void {
  let closed = false;
  const onError = (err: unknown): void => {
    if (closed) return;
    closed = true;
    onClosed(err);
  };
  for (const s of streams) s.on('error', onError);
  return () => {
    for (const s of streams) s.off('error', onError);
  };
}
