/**
 * gRPC through both sidecars with real @grpc/grpc-js on each end:
 * client → outbound (h2c) → mTLS (ALPN h2) → inbound → server (h2c).
 * Status codes, details, headers and trailers must arrive intact, for
 * unary and bidirectional streaming calls, on either link protocol.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Cleanup, makePki, type Pki } from '../../support/proxy-fixtures.ts';
import { FRONTEND_ID, startMesh } from '../forward/mesh.ts';

const PROTO = `
syntax = "proto3";
package meshtest;
message Msg { string text = 1; }
service Echo {
  rpc Unary (Msg) returns (Msg);
  rpc Bidi (stream Msg) returns (stream Msg);
}
`;

const cleanup = new Cleanup();
after(() => cleanup.run());

type EchoClient = grpc.Client & {
  Unary(req: { text: string }, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: { text: string }) => void): grpc.ClientUnaryCall;
  Bidi(md: grpc.Metadata): grpc.ClientDuplexStream<{ text: string }, { text: string }>;
};

let pki: Pki;
let EchoCtor: grpc.ServiceClientConstructor;
let serverPort: number;
const seenCallers: string[] = [];

before(async () => {
  pki = await makePki();
  const dir = mkdtempSync(join(tmpdir(), 'grpc-mesh-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'echo.proto');
  writeFileSync(file, PROTO);
  const def = grpc.loadPackageDefinition(protoLoader.loadSync(file, { keepCase: true }));
  EchoCtor = (def['meshtest'] as grpc.GrpcObject)['Echo'] as grpc.ServiceClientConstructor;

  const server = new grpc.Server();
  server.addService(EchoCtor.service, {
    Unary(call: grpc.ServerUnaryCall<{ text: string }, { text: string }>, cb: grpc.sendUnaryData<{ text: string }>) {
      seenCallers.push(String(call.metadata.get('x-client-spiffe-id')[0] ?? ''));
      if (call.request.text === 'trailers-only') {
        // No initial metadata: grpc-js answers with one HEADERS frame that ends the stream.
        const trailer = new grpc.Metadata();
        trailer.set('x-why', 'early');
        cb({ code: grpc.status.NOT_FOUND, details: 'no such item', metadata: trailer });
        return;
      }
      const header = new grpc.Metadata();
      header.set('x-initial', 'hello');
      call.sendMetadata(header);
      if (call.request.text === 'fail') {
        const trailer = new grpc.Metadata();
        trailer.set('x-why', 'because');
        cb({ code: grpc.status.INVALID_ARGUMENT, details: 'text must not be "fail"', metadata: trailer });
        return;
      }
      const trailer = new grpc.Metadata();
      trailer.set('x-trailer', 'done');
      cb(null, { text: `echo:${call.request.text}` }, trailer);
    },
    Bidi(call: grpc.ServerDuplexStream<{ text: string }, { text: string }>) {
      seenCallers.push(String(call.metadata.get('x-client-spiffe-id')[0] ?? ''));
      let n = 0;
      call.on('data', (m: { text: string }) => {
        n++;
        call.write({ text: `${n}:${m.text}` });
      });
      call.on('end', () => {
        const trailer = new grpc.Metadata();
        trailer.set('x-count', String(n));
        call.end(trailer);
      });
    },
  });
  serverPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  cleanup.add(() => server.forceShutdown());
});

function clientFor(port: number): EchoClient {
  const c = new EchoCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'backend' }) as unknown as EchoClient;
  cleanup.add(() => c.close());
  return c;
}

function unary(c: EchoClient, text: string): Promise<{ err: grpc.ServiceError | null; res?: { text: string }; header: grpc.Metadata; trailer: grpc.Metadata }> {
  return new Promise((resolve) => {
    let header = new grpc.Metadata();
    let trailer = new grpc.Metadata();
    const md = new grpc.Metadata();
    md.set('x-client-spiffe-id', 'spiffe://example.org/forged');
    const call = c.Unary({ text }, md, (err, res) => setImmediate(() => resolve({ err, ...(res ? { res } : {}), header, trailer })));
    call.on('metadata', (m) => (header = m));
    call.on('status', (s) => (trailer = s.metadata));
  });
}

for (const protocol of ['http1', 'h2'] as const) {
  // This link's mesh, started once by its first test. Not a before() here: node:test runs a
  // top-level before() as soon as it is registered, before the one above has made pki and the server.
  let mesh: Promise<number> | undefined;
  const meshPort = (): Promise<number> => (mesh ??= startMesh(pki, cleanup, { appPort: serverPort, appProtocol: 'h2c', protocol }).then((m) => m.outboundPort));

  test(`gRPC over a ${protocol} link: unary OK: message, initial metadata and trailers intact; caller identity set by the inbound`, async () => {
    const port = await meshPort();
    const r = await unary(clientFor(port), 'hi');
    assert.equal(r.err, null);
    assert.equal(r.res?.text, 'echo:hi');
    assert.deepEqual(r.header.get('x-initial'), ['hello']);
    assert.deepEqual(r.trailer.get('x-trailer'), ['done']);
    assert.equal(seenCallers.at(-1), FRONTEND_ID);
  });

  test(`gRPC over a ${protocol} link: unary error: status code, details and trailing metadata intact`, async () => {
    const port = await meshPort();
    const r = await unary(clientFor(port), 'fail');
    assert.equal(r.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(r.err?.details, 'text must not be "fail"');
    assert.deepEqual(r.err?.metadata.get('x-why'), ['because']);
  });

  test(`gRPC over a ${protocol} link: unary error as a Trailers-Only response (no initial metadata): status, details and metadata intact`, async () => {
    const port = await meshPort();
    const r = await unary(clientFor(port), 'trailers-only');
    assert.equal(r.err?.code, grpc.status.NOT_FOUND, r.err?.details);
    assert.equal(r.err?.details, 'no such item');
    assert.deepEqual(r.err?.metadata.get('x-why'), ['early']);
  });

  test(`gRPC over a ${protocol} link: bidirectional streaming: interleaved messages, then status and trailers`, async () => {
    const port = await meshPort();
    const c = clientFor(port);
    const call = c.Bidi(new grpc.Metadata());
    const got: string[] = [];
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    // Send one message at a time and wait for its echo: proves neither side buffers.
    for (const text of ['a', 'b', 'c']) {
      const next = new Promise<void>((resolve) => call.once('data', (m: { text: string }) => (got.push(m.text), resolve())));
      call.write({ text });
      await next;
    }
    call.end();
    const s = await status;
    assert.deepEqual(got, ['1:a', '2:b', '3:c']);
    assert.equal(s.code, grpc.status.OK);
    assert.deepEqual(s.metadata.get('x-count'), ['3']);
    assert.equal(seenCallers.at(-1), FRONTEND_ID);
  });
}
