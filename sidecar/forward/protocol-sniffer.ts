import type { Socket } from 'node:net';

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Tells HTTP/1.1 from HTTP/2 with prior knowledge (h2c, as gRPC clients
 * speak on plain TCP) by the first bytes of a plaintext connection: the
 * HTTP/2 preface, or anything else. The bytes read are pushed back, so the
 * chosen server parses the connection from its first byte; the socket is
 * left paused (resume it after handing it to an HTTP/1.1 server; node:http2
 * reads the pushed-back bytes on its own). A client that sends nothing
 * within `timeoutMs` is disconnected.
 */
export function sniffProtocol(socket: Socket, timeoutMs: number, cb: (protocol: 'h1' | 'h2') => void): void {
  let buffered: Buffer | null = null;
  const onTimeout = (): void => {
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
    const n = Math.min(buffered.length, PREFACE.length);
    const isPrefix = buffered.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isPrefix && buffered.length < PREFACE.length) return;
    socket.removeListener('data', onData);
    socket.setTimeout(0);
    socket.removeListener('timeout', onTimeout);
    socket.pause();
    socket.unshift(buffered);
    cb(isPrefix ? 'h2' : 'h1');
  };
  socket.setTimeout(timeoutMs, onTimeout);
  socket.on('data', onData);
}
