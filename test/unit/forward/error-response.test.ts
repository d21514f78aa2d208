/**
 * The one mapping from upstream failures to what the client sees: status,
 * body and metric reason. One row per kind of failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForwardError, errorResponse } from '../../../sidecar/forward/index.ts';
import { Http1Error } from '../../../sidecar/http1/index.ts';
import { CredentialsError, PeerNotAuthorized } from '../../../sidecar/tls/index.ts';
import { WorkloadApiError } from '../../../sidecar/workload/index.ts';

const err = (code: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(code), { code, ...extra });

const rows: { name: string; error: unknown; status: number; reason: string; body?: string | RegExp; retryAfter?: number }[] = [
  {
    name: 'every pool connection busy → 503 with retry-after (no queue behind unfinished requests)',
    error: new ForwardError('forward.overloaded', 'all 4 connections to 127.0.0.1:8080 are busy'),
    status: 503,
    reason: 'upstream_overloaded',
    retryAfter: 1,
  },
  { name: 'upstream cancelled by the proxy → 502', error: new ForwardError('forward.cancelled', 'x'), status: 502, reason: 'cancelled' },
  {
    name: 'connect refused → 503 naming the address',
    error: new ForwardError('forward.connect_failed', 'upstream connect error: ECONNREFUSED 127.0.0.1:8080'),
    status: 503,
    reason: 'upstream_unavailable',
    body: 'upstream connect error: ECONNREFUSED 127.0.0.1:8080',
  },
  { name: 'connect timeout → 503', error: new ForwardError('forward.connect_timeout', 'x'), status: 503, reason: 'upstream_unavailable' },
  { name: 'response timeout → 504', error: new ForwardError('forward.timeout', 'x'), status: 504, reason: 'upstream_timeout' },
  {
    name: 'identity mismatch → 502 naming both IDs',
    error: new PeerNotAuthorized('spiffe://example.org/intruder', 'spiffe://example.org/backend', 'unexpected ID'),
    status: 502,
    reason: 'identity_mismatch',
    body: 'upstream identity mismatch: expected spiffe://example.org/backend, presented spiffe://example.org/intruder',
  },
  { name: 'SPIFFE verification failure → 502', error: err('x509svid.expired', { reason: 'expired' }), status: 502, reason: 'upstream_tls', body: /expired/ },
  { name: 'TLS alert → 502', error: err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), status: 502, reason: 'upstream_tls' },
  { name: 'OpenSSL verify code → 502', error: err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), status: 502, reason: 'upstream_tls' },
  { name: 'reset before a response → 502', error: err('ECONNRESET'), status: 502, reason: 'upstream_reset' },
  { name: 'closed before the response ended → 502', error: new ForwardError('forward.upstream_reset', 'x'), status: 502, reason: 'upstream_reset' },
  { name: 'HTTP/2 stream reset → 502', error: err('ERR_HTTP2_STREAM_ERROR'), status: 502, reason: 'upstream_reset' },
  { name: 'request head the next hop cannot carry → 400', error: new Http1Error('http1.invalid_outgoing_field', 'x'), status: 400, reason: 'bad_request' },
  { name: 'no SVID → 503', error: new WorkloadApiError('workload.no_svid', 'no X509-SVID yet'), status: 503, reason: 'no_svid', body: 'no SVID to present: workload: no X509-SVID yet' },
  { name: 'credentials home with nothing published → 503', error: new CredentialsError('tls.credentials_unpublished', 'tls: no credentials published yet'), status: 503, reason: 'no_svid', body: 'no SVID to present: tls: no credentials published yet' },
  { name: 'shutting down → 503', error: new ForwardError('forward.closed', 'x'), status: 503, reason: 'shutting_down' },
  { name: 'anything else → 502', error: new Error('boom'), status: 502, reason: 'upstream_error' },
  { name: 'a non-error → 502', error: undefined, status: 502, reason: 'upstream_error' },
];

for (const row of rows) {
  test(row.name, () => {
    const r = errorResponse(row.error);
    assert.equal(r.status, row.status);
    assert.equal(r.reason, row.reason);
    assert.equal(r.retryAfter, row.retryAfter ?? 0, 'retry-after only where retrying can help');
    if (typeof row.body === 'string') assert.equal(r.body, row.body);
    else if (row.body) assert.match(r.body, row.body);
    assert.ok(!r.body.includes('\n'), 'one line');
  });
}
