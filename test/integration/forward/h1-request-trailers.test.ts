/**
 * Request trailers from an HTTP/1.1 caller (the trailer section of a
 * chunked body, RFC 9112 §7.1.2) reach the app whichever protocol each hop
 * speaks: in the last chunk of a chunked body on an HTTP/1.1 hop, as a
 * trailers HEADERS frame on an HTTP/2 hop (RFC 9113 §8.1), with the fields
 * a request's trailer section must not carry dropped on the way
 * (request-trailers.ts: credentials, framing, identity headers).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import { startMesh } from './mesh.ts';
import { Cleanup, makePki, startH1App, startH2cApp, type Pki } from '../../support/proxy-fixtures.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
before(async () => {
  pki = await makePki();
});

const SENT_TRAILERS = { 'x-checksum': 'sha-256=abc', authorization: 'Bearer t', 'x-client-spiffe-id': 'spiffe://example.org/forged' };
const WANT_TRAILERS = { 'x-checksum': 'sha-256=abc' };

/** POSTs `body` chunked with `trailers` over a fresh HTTP/1.1 connection; resolves with the status. */
function postChunked(port: number, body: string, trailers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false, headers: { host: 'backend', 'transfer-encoding': 'chunked' } });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.write(body);
    req.addTrailers(trailers);
    req.end();
  });
}

/** An HTTP/1.1 app that records each request's body and trailers. */
async function h1App(): Promise<{ port: number; seen: { body: string; chunked: boolean; trailers: IncomingHttpHeaders }[] }> {
  const seen: { body: string; chunked: boolean; trailers: IncomingHttpHeaders }[] = [];
  const app = await startH1App(cleanup, (req, res, body) => {
    seen.push({ body, chunked: req.headers['transfer-encoding'] === 'chunked', trailers: { ...req.trailers } });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  return { port: app.port, seen };
}

for (const protocol of ['http1', 'h2'] as const) {
  test(`request trailers h1 → ${protocol} pair → h1 app: in the app's last chunk, forbidden fields dropped`, async () => {
    const app = await h1App();
    const m = await startMesh(pki, cleanup, { appPort: app.port, appProtocol: 'http1', protocol });
    assert.equal(await postChunked(m.outboundPort, 'payload', SENT_TRAILERS), 200);
    assert.equal(app.seen.length, 1);
    assert.equal(app.seen[0]!.body, 'payload');
    assert.equal(app.seen[0]!.chunked, true);
    assert.deepEqual(app.seen[0]!.trailers, WANT_TRAILERS);
  });
}

/** An h2c app that records each stream's body and trailers (null when the stream ended without any). */
async function h2cApp(): Promise<{ port: number; seen: { body: string; trailers: Record<string, unknown> | null }[] }> {
  const seen: { body: string; trailers: Record<string, unknown> | null }[] = [];
  const app = await startH2cApp(cleanup, (stream) => {
    let body = '';
    let trailers: Record<string, unknown> | null = null;
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    stream.on('trailers', (h) => (trailers = Object.fromEntries(Object.entries(h))));
    stream.on('end', () => {
      seen.push({ body, trailers });
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  return { port: app.port, seen };
}

const h2cRows = [
  { name: 'request trailers h1 → h1 pair → h2c app: a trailers HEADERS frame, forbidden fields dropped', sent: SENT_TRAILERS, want: WANT_TRAILERS },
  { name: 'a chunked request without trailers still reaches an h2c app whole (the stream ends after its body)', sent: {}, want: null },
];
for (const row of h2cRows) {
  test(row.name, async () => {
    const app = await h2cApp();
    const m = await startMesh(pki, cleanup, { appPort: app.port, appProtocol: 'h2c', protocol: 'http1' });
    assert.equal(await postChunked(m.outboundPort, 'payload', row.sent), 200);
    assert.equal(app.seen.length, 1);
    assert.equal(app.seen[0]!.body, 'payload');
    assert.deepEqual(app.seen[0]!.trailers, row.want);
  });
}
