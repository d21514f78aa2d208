/**
 * The proxy engine's local-answer map: one row per reason, with the
 * status, connection close, extra headers and log level every caller in
 * forward/ takes from it (error-response.ts, exchange.ts, http-front.ts,
 * h1-downstream.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORWARD_ANSWERS, FORWARD_ANSWER_REASONS, type AnswerLevel, type ForwardAnswerReason } from '../../../sidecar/forward/index.ts';

type Want = { status: number; close?: boolean; retryAfter?: boolean; level?: AnswerLevel; why: string };

const RETRY_AFTER_ONE = ['retry-after', '1'];

const rows: Record<ForwardAnswerReason, Want> = {
  malformed_request: { status: 400, close: true, why: 'what follows a broken head cannot be framed (the parser names a more precise status)' },
  headers_timeout: { status: 408, close: true, why: 'a head that never ended leaves nothing to read on' },
  header_too_large: { status: 431, why: 'RFC 6585 §5' },
  connect_refused: { status: 405, close: true, why: 'neither a forward proxy nor a tunnel endpoint; tunnel bytes would follow' },
  connection_overflow: { status: 503, retryAfter: true, why: 'the budget frees up when a request ends' },
  caller_overflow: { status: 503, retryAfter: true, why: 'the budget frees up when a request ends' },
  request_body_timeout: { status: 408, close: true, why: 'the rest of the body will not be read' },
  request_body_too_slow: { status: 408, close: true, why: 'the rest of the body will not be read' },
  bad_request: { status: 400, why: 'a field the next hop cannot carry' },
  internal: { status: 500, level: 'error', why: 'a bug in routing is loud' },
  upstream_unavailable: { status: 503, why: 'no connection could be made' },
  upstream_timeout: { status: 504, why: 'no response head in time' },
  upstream_reset: { status: 502, why: 'closed before answering' },
  upstream_protocol: { status: 502, why: 'answered in a way we cannot relay' },
  upstream_overloaded: { status: 503, retryAfter: true, why: 'every pool connection busy, never a queue' },
  upstream_tls: { status: 502, level: 'warn', why: 'the upstream failed verification' },
  identity_mismatch: { status: 502, level: 'warn', why: 'the upstream is not who it must be' },
  no_svid: { status: 503, why: 'nothing to present yet (fail closed)' },
  shutting_down: { status: 503, why: 'draining' },
  unsupported: { status: 502, why: 'the upstream cannot take this request' },
  cancelled: { status: 502, why: 'the proxy stopped the upstream itself' },
  client_abort: { status: 499, why: 'logged only: the client is gone' },
  upstream_error: { status: 502, why: 'anything else' },
};

for (const reason of Object.keys(rows) as ForwardAnswerReason[]) {
  const want = rows[reason];
  test(`${reason}: ${want.status}: ${want.why}`, () => {
    const a = FORWARD_ANSWERS[reason];
    assert.equal(a.reason, reason);
    assert.equal(a.status, want.status);
    assert.equal(a.close, want.close ?? false, 'connection close');
    assert.deepEqual(a.headers, want.retryAfter ? RETRY_AFTER_ONE : [], 'retry-after only where a retry soon can succeed');
    assert.equal(a.level, want.level ?? 'debug', 'log level');
    assert.ok(a.body.length > 0 && !a.body.includes('\n'), 'one line of text');
  });
}

test('the reasons form a closed set: every one has a row and is listed once', () => {
  assert.deepEqual([...FORWARD_ANSWER_REASONS].sort(), Object.keys(rows).sort());
});
