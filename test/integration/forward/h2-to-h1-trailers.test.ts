/**
 * Request trailers from an HTTP/2 caller reach an HTTP/1.1 app: through a
 * sidecar pair talking h2, the inbound's HTTP/1.1 connection to the app
 * writes them in the last chunk of a chunked body (RFC 9112 §7.1.2). A body
 * sent with a Content-Length has no place for them: they are dropped and
 * the body arrives whole.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import { startMesh } from './mesh.ts';
import { Cleanup, makePki, startH1App, type Pki } from '../../support/proxy-fixtures.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
before(async () => {
  pki = await makePki();
});

/** POSTs `body` with `headers` over `session`, then `trailers`; resolves with the status. */
function post(session: http2.ClientHttp2Session, body: string, headers: Record<string, string>, trailers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const st = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'backend', ...headers }, { waitForTrailers: true });
    let status = 0;
    st.on('response', (h) => (status = Number(h[':status'])));
    st.on('wantTrailers', () => st.sendTrailers(trailers));
    st.on('error', reject);
    st.resume();
    st.on('close', () => resolve(status));
    st.end(body);
  });
}

test('request trailers h2 → h1: in the last chunk of a chunked body, dropped with a Content-Length', async (t) => {
  const trailersSeen: IncomingHttpHeaders[] = [];
  const app = await startH1App(cleanup, (req, res) => {
    trailersSeen.push({ ...req.trailers });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  const m = await startMesh(pki, cleanup, { appPort: app.port, appProtocol: 'http1', protocol: 'h2' });
  const session = http2.connect(`http://127.0.0.1:${m.outboundPort}`);
  session.on('error', () => {});
  cleanup.add(() => session.destroy());

  const rows: { why: string; headers: Record<string, string>; trailers: Record<string, string>; chunked: boolean; want: Record<string, string> }[] = [
    { why: 'no Content-Length: the body is chunked and its last chunk carries the trailers', headers: {}, trailers: { 'x-checksum': 'sha-256=abc' }, chunked: true, want: { 'x-checksum': 'sha-256=abc' } },
    { why: 'a field a trailer section must not carry is not written', headers: {}, trailers: { 'x-checksum': 'sha-256=abc', authorization: 'Bearer t' }, chunked: true, want: { 'x-checksum': 'sha-256=abc' } },
    { why: 'a Content-Length body cannot carry trailers: dropped, the body intact', headers: { 'content-length': '7' }, trailers: { 'x-checksum': 'sha-256=abc' }, chunked: false, want: {} },
  ];
  for (const row of rows) {
    await t.test(row.why, async () => {
      const before = app.seen.length;
      assert.equal(await post(session, 'payload', row.headers, row.trailers), 200);
      const seen = app.seen[before]!;
      assert.equal(seen.body, 'payload');
      assert.equal(seen.headers['transfer-encoding'] === 'chunked', row.chunked);
      assert.deepEqual(trailersSeen[before], row.want);
    });
  }
});
