/**
 * The audit sink as the proxy engine calls it: real sockets on 127.0.0.1,
 * an HttpFront with an H1Pool to a real app, and the AuditLog writing lines
 * that must match docs/audit-log.schema.json, with the body bytes counted on
 * the HTTP/1.1 path and no query in the output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { silentLogger, systemClock } from '../../../sidecar/core/index.ts';
import { AuditLog } from '../../../sidecar/audit/index.ts';
import { H1Pool, HttpFront, TcpDialer, type AnswerRow, type Exchange } from '../../../sidecar/forward/index.ts';
import { SidecarMetrics } from '../../../sidecar/metrics/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';
import { checkLine } from '../../support/audit-schema.ts';

const CALLER = 'spiffe://example.org/caller';
const LIMITS = { maxHeaderBytes: 16384, maxConnections: 16, idleTimeoutMs: 5000, requestTimeoutMs: 0, headersTimeoutMs: 5000, connectTimeoutMs: 2000 };

/** A policy denial as the inbound map would give it. */
const DENIED: AnswerRow = Object.freeze({ reason: 'denied_by_rule', status: 403, body: 'forbidden', headers: [], close: false, level: 'debug' });

const lines: string[] = [];
let app: http.Server;
let listener: net.Server;
let front: HttpFront;
let port = 0;

before(async () => {
  app = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('hello from the app'));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const pool = new H1Pool({ dialer: new TcpDialer({ host: '127.0.0.1', port: appPort }, 2000), dst: 'app', maxConnections: 4, idleTimeoutMs: 1000, requestTimeoutMs: 0, maxHeaderBytes: 16384 });
  const audit = new AuditLog({ out: { write: (l: string) => lines.push(l) }, clock: systemClock, denyBurst: 1, denyPerMinute: 1 });
  const route = (ex: Exchange): void => {
    if (ex.path.startsWith('/denied')) {
      ex.decision = 'deny';
      ex.answer(DENIED);
      return;
    }
    ex.decision = 'allow';
    ex.rule = 'everyone';
    ex.dryRun = [{ rule: 'future', outcome: 'would_deny' }];
    ex.forwardTo(pool);
  };
  front = new HttpFront({ direction: 'inbound', limits: LIMITS, metrics: new SidecarMetrics(), logger: silentLogger, accessLog: false, clock: systemClock, route, audit });
  const peer = SpiffeId.parse(CALLER);
  listener = net.createServer((s) => front.acceptH1(s, { peer, peerId: CALLER, caller: undefined, peerAddress: s.remoteAddress }));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  port = (listener.address() as AddressInfo).port;
});

after(async () => {
  front?.destroy();
  await new Promise((r) => listener?.close(r));
  await new Promise((r) => app?.close(r));
});

function call(method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('audit lines from a running HttpFront: writes allow, dry-run and rate-limited deny lines that match the schema', async () => {
  assert.equal(await call('POST', '/upload?api_key=s3cret', 'x'.repeat(5000)), 200);
  for (let i = 0; i < 5; i++) assert.equal(await call('GET', '/denied?token=abc'), 403);
  // The exchange is recorded when the downstream closes, just after the response.
  for (let i = 0; i < 50 && lines.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  const ls = lines.map(checkLine);
  assert.equal(ls.length, 3, lines.join(''));
  assert.deepEqual(
    ls.map((l) => [l['decision'], l['path'], l['status']]),
    [['allow', '/upload', 200], ['would_deny', '/upload', 200], ['deny', '/denied', 403]],
  );
  assert.equal(ls[0]!['bytes_in'], 5000, 'HTTP/1.1 request body counted');
  assert.equal(ls[0]!['bytes_out'], 'hello from the app'.length);
  assert.equal(ls[0]!['caller_id'], CALLER);
  assert.match(String(ls[0]!['source_address']), /127\.0\.0\.1$/);
  for (const l of lines) assert.ok(!l.includes('?') && !l.includes('s3cret') && !l.includes('abc'), l);
});
