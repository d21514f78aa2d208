/**
 * An h2c app written with raw frames (RFC 9113 §4.1), for what node's
 * http2 server does not do reliably: answer each request with its HEADERS
 * and DATA in one write, so a client reads them together. Request header
 * blocks are not decoded; response headers use HPACK literals
 * (test/integration/security/h2-frames.ts).
 */
import { once } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import { data, frame, headers } from '../security/h2-frames.ts';
import type { Cleanup } from '../../support/proxy-fixtures.ts';

const PREFACE_BYTES = 24;
const TYPE_DATA = 0x0;
const TYPE_HEADERS = 0x1;
const TYPE_RST_STREAM = 0x3;
const TYPE_SETTINGS = 0x4;
const FLAG_ACK = 0x1;
const FLAG_END_STREAM = 0x1;

/** Options of {@link startRawH2App}. */
export interface RawH2AppOptions {
  /** Response body of every request. */
  readonly body: string;
  /** Never send SETTINGS (nor anything else): a server that is not an HTTP/2 server. */
  readonly silent?: boolean;
}

/** The running app and what it saw. */
export interface RawH2App {
  readonly port: number;
  /** Requests answered. */
  served: number;
}

/** Starts the app on 127.0.0.1; closed by `cleanup`. */
export async function startRawH2App(cleanup: Cleanup, o: RawH2AppOptions): Promise<RawH2App> {
  const sockets = new Set<Socket>();
  const app: RawH2App = { port: 0, served: 0 };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (o.silent === true) socket.resume();
    else serve(socket, o, app);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return Object.assign(app, { port: (server.address() as AddressInfo).port });
}

function serve(socket: Socket, o: RawH2AppOptions, app: RawH2App): void {
  let buf = Buffer.alloc(0);
  let prefaceSeen = false;
  const open = new Set<number>();
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const out: Buffer[] = [];
    if (!prefaceSeen) {
      if (buf.length < PREFACE_BYTES) return;
      buf = buf.subarray(PREFACE_BYTES);
      prefaceSeen = true;
      // The server preface: an empty SETTINGS frame (RFC 9113 §3.4).
      out.push(frame(TYPE_SETTINGS, 0, 0, Buffer.alloc(0)));
    }
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      const type = buf[3]!;
      const flags = buf[4]!;
      const id = buf.readUInt32BE(5) & 0x7fffffff;
      buf = buf.subarray(9 + length);
      if (type === TYPE_SETTINGS && (flags & FLAG_ACK) === 0) out.push(frame(TYPE_SETTINGS, FLAG_ACK, 0, Buffer.alloc(0)));
      if (type === TYPE_RST_STREAM) open.delete(id);
      if (type === TYPE_HEADERS) open.add(id);
      if ((type === TYPE_HEADERS || type === TYPE_DATA) && (flags & FLAG_END_STREAM) !== 0 && open.has(id)) {
        open.delete(id);
        app.served++;
        // Head and body in one write, so the client reads them together.
        out.push(headers(id, [[':status', '200'], ['content-type', 'text/plain']], false), data(id, o.body, true));
      }
    }
    if (out.length > 0) socket.write(Buffer.concat(out));
  });
}
