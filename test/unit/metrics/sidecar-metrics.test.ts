import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { SidecarMetrics, noopProxyMetrics, type ProxyMetrics } from '../../../sidecar/metrics/index.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

/** A small parser for the Prometheus text format, enough to check what render() produces. */
function parse(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      (m[1] === 'HELP' ? out.help : out.types).set(m[2]!, m[3]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(m: SidecarMetrics): Promise<Exposition> {
  return parse(await m.render());
}

function find(e: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function value(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(e, name, labels);
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

const PEER = 'spiffe://example.org/frontend';

const rows: { name: string; type: string; labels: string[] }[] = [
  { name: 'sidecar_requests_total', type: 'counter', labels: ['code', 'direction', 'method', 'peer_spiffe_id'] },
  { name: 'sidecar_request_duration_seconds_bucket', type: 'histogram', labels: ['direction', 'le', 'method', 'peer_spiffe_id'] },
  { name: 'sidecar_request_duration_seconds_sum', type: 'histogram', labels: ['direction', 'method', 'peer_spiffe_id'] },
  { name: 'sidecar_request_duration_seconds_count', type: 'histogram', labels: ['direction', 'method', 'peer_spiffe_id'] },
  { name: 'sidecar_tls_handshake_errors_total', type: 'counter', labels: ['direction', 'reason'] },
  { name: 'sidecar_authz_decisions_total', type: 'counter', labels: ['decision', 'peer_spiffe_id'] },
  { name: 'sidecar_connections_active', type: 'gauge', labels: ['direction'] },
  { name: 'sidecar_svid_expiry_timestamp_seconds', type: 'gauge', labels: [] },
  { name: 'sidecar_svid_rotations_total', type: 'counter', labels: [] },
  { name: 'sidecar_workload_api_connected', type: 'gauge', labels: [] },
  { name: 'sidecar_policy_reload_errors_total', type: 'counter', labels: [] },
  { name: 'sidecar_upstream_overflow_total', type: 'counter', labels: ['direction', 'limit'] },
  { name: 'sidecar_request_body_timeouts_total', type: 'counter', labels: ['direction', 'reason'] },
  { name: 'sidecar_streams_reset_before_upstream_total', type: 'counter', labels: ['direction'] },
];

const m = new SidecarMetrics({ processMetrics: false });
m.requestDone('inbound', 'GET', 200, PEER, 0.003);
m.handshakeError('inbound', 'untrusted_peer');
m.authzDecision('allow', PEER);
let e: Exposition;

test('SidecarMetrics: names, types and labels: renders', async () => {
  e = await scrape(m);
});
for (const row of rows) {
  test(`SidecarMetrics: names, types and labels: ${row.name} is a ${row.type} labelled [${row.labels.join(', ')}]`, () => {
    const family = row.name.replace(/_(bucket|sum|count)$/, '');
    assert.equal(e.types.get(family), row.type);
    assert.ok((e.help.get(family) ?? '').length > 30, `${family} needs a help text a dashboard author understands`);
    const samples = find(e, row.name);
    assert.ok(samples.length > 0, `no samples for ${row.name}`);
    for (const s of samples) assert.deepEqual(Object.keys(s.labels).sort(), row.labels);
  });
}

test('SidecarMetrics: names, types and labels: request duration buckets span 0.5 ms to 10 s', () => {
  const les = find(e, 'sidecar_request_duration_seconds_bucket').map((s) => s.labels['le']);
  assert.deepEqual(les, ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
});

test('SidecarMetrics: names, types and labels: the content type is the Prometheus text format', () => {
  assert.match(m.contentType, /^text\/plain; version=0\.0\.4; charset=utf-8$/);
});

test('SidecarMetrics: recording: counts requests with the code as a string and observes the duration', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  m.requestDone('inbound', 'GET', 200, PEER, 0.003);
  m.requestDone('inbound', 'GET', 200, PEER, 0.02);
  m.requestDone('outbound', 'POST', 503, 'spiffe://example.org/backend', 1);
  const e = await scrape(m);
  assert.equal(value(e, 'sidecar_requests_total', { direction: 'inbound', method: 'GET', code: '200', peer_spiffe_id: PEER }), 2);
  assert.equal(value(e, 'sidecar_requests_total', { direction: 'outbound', method: 'POST', code: '503' }), 1);
  const inbound = { direction: 'inbound', method: 'GET', peer_spiffe_id: PEER };
  assert.equal(value(e, 'sidecar_request_duration_seconds_count', inbound), 2);
  assert.equal(value(e, 'sidecar_request_duration_seconds_sum', inbound), 0.023);
  assert.equal(value(e, 'sidecar_request_duration_seconds_bucket', { ...inbound, le: '0.005' }), 1);
  assert.equal(value(e, 'sidecar_request_duration_seconds_bucket', { ...inbound, le: '0.025' }), 2);
});

test('SidecarMetrics: recording: maps non-standard methods to OTHER (methods are case-sensitive)', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  for (const method of ['PROPFIND', 'get', 'BREW', 'PATCH']) m.requestDone('inbound', method, 200, PEER, 0);
  const e = await scrape(m);
  assert.equal(value(e, 'sidecar_requests_total', { method: 'OTHER' }), 3);
  assert.equal(value(e, 'sidecar_requests_total', { method: 'PATCH' }), 1);
  assert.deepEqual(new Set(find(e, 'sidecar_requests_total').map((s) => s.labels['method'])), new Set(['OTHER', 'PATCH']));
});

test('SidecarMetrics: recording: reports codes outside 100-599 as "0"', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  for (const code of [0, 99, 600, -1, 1.5e9]) m.requestDone('inbound', 'GET', code, PEER, 0);
  const e = await scrape(m);
  assert.equal(value(e, 'sidecar_requests_total', { code: '0' }), 5);
});

test('SidecarMetrics: recording: caps distinct peer IDs at maxPeerIds; later ones are "overflow", for every peer-labelled metric', async () => {
  const m = new SidecarMetrics({ maxPeerIds: 2, processMetrics: false });
  for (const p of ['a', 'b', 'c', 'd', 'a']) m.requestDone('inbound', 'GET', 200, `spiffe://example.org/${p}`, 0);
  m.authzDecision('deny', 'spiffe://example.org/e');
  m.authzDecision('allow', 'spiffe://example.org/b');
  const e = await scrape(m);
  const peers = (name: string) => find(e, name).map((s) => `${s.labels['peer_spiffe_id']}=${s.value}`).sort();
  assert.deepEqual(peers('sidecar_requests_total'), ['overflow=2', 'spiffe://example.org/a=2', 'spiffe://example.org/b=1']);
  assert.deepEqual(peers('sidecar_request_duration_seconds_count'), peers('sidecar_requests_total'));
  assert.deepEqual(peers('sidecar_authz_decisions_total'), ['overflow=1', 'spiffe://example.org/b=1']);
});

test('SidecarMetrics: recording: an empty peer ID (unauthenticated) passes through and does not use up the cap', async () => {
  const m = new SidecarMetrics({ maxPeerIds: 1, processMetrics: false });
  m.authzDecision('deny', '');
  m.authzDecision('allow', PEER);
  const e = await scrape(m);
  assert.equal(value(e, 'sidecar_authz_decisions_total', { decision: 'allow', peer_spiffe_id: PEER }), 1);
  assert.equal(value(e, 'sidecar_authz_decisions_total', { decision: 'deny' }), 1);
});

test('SidecarMetrics: recording: caps distinct handshake-error reasons at 32; the rest are "other"', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  for (let i = 0; i < 40; i++) m.handshakeError('outbound', `reason_${i}`);
  m.handshakeError('outbound', 'reason_0');
  const e = await scrape(m);
  const samples = find(e, 'sidecar_tls_handshake_errors_total');
  assert.equal(samples.length, 33);
  assert.equal(value(e, 'sidecar_tls_handshake_errors_total', { reason: 'other' }), 8);
  assert.equal(value(e, 'sidecar_tls_handshake_errors_total', { reason: 'reason_0' }), 2);
});

test('SidecarMetrics: recording: tracks active connections per direction, starting at 0 for both', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  let e = await scrape(m);
  assert.equal(value(e, 'sidecar_connections_active', { direction: 'inbound' }), 0);
  assert.equal(value(e, 'sidecar_connections_active', { direction: 'outbound' }), 0);
  m.connectionOpened('inbound');
  m.connectionOpened('inbound');
  m.connectionOpened('outbound');
  m.connectionClosed('inbound');
  e = await scrape(m);
  assert.equal(value(e, 'sidecar_connections_active', { direction: 'inbound' }), 1);
  assert.equal(value(e, 'sidecar_connections_active', { direction: 'outbound' }), 1);
});

test('SidecarMetrics: recording: records SVID expiry, counts only real rotations', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  let e = await scrape(m);
  assert.equal(value(e, 'sidecar_svid_expiry_timestamp_seconds'), 0);
  m.svidUpdated(new Date('2030-01-01T00:00:00Z'), false);
  e = await scrape(m);
  assert.equal(value(e, 'sidecar_svid_expiry_timestamp_seconds'), 1893456000);
  assert.equal(value(e, 'sidecar_svid_rotations_total'), 0);
  m.svidUpdated(new Date('2030-01-01T01:00:00.500Z'), true);
  e = await scrape(m);
  assert.equal(value(e, 'sidecar_svid_expiry_timestamp_seconds'), 1893459600.5);
  assert.equal(value(e, 'sidecar_svid_rotations_total'), 1);
});

test('SidecarMetrics: recording: records Workload API connectivity and policy reload errors', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  let e = await scrape(m);
  assert.equal(value(e, 'sidecar_workload_api_connected'), 0);
  assert.equal(value(e, 'sidecar_policy_reload_errors_total'), 0);
  m.workloadApiConnected(true);
  m.policyReloadError();
  m.policyReloadError();
  e = await scrape(m);
  assert.equal(value(e, 'sidecar_workload_api_connected'), 1);
  assert.equal(value(e, 'sidecar_policy_reload_errors_total'), 2);
  m.workloadApiConnected(false);
  e = await scrape(m);
  assert.equal(value(e, 'sidecar_workload_api_connected'), 0);
});

test('SidecarMetrics: recording: never throws on a bad duration (NaN, negative, Infinity count as 0)', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  for (const d of [Number.NaN, -1, Number.POSITIVE_INFINITY]) m.requestDone('inbound', 'GET', 200, PEER, d);
  const e = await scrape(m);
  assert.equal(value(e, 'sidecar_request_duration_seconds_count', { method: 'GET' }), 3);
  assert.equal(value(e, 'sidecar_request_duration_seconds_sum', { method: 'GET' }), 0);
});

test('SidecarMetrics: isolation: two instances in one process do not share series', async () => {
  const a = new SidecarMetrics();
  const b = new SidecarMetrics();
  a.requestDone('inbound', 'GET', 200, PEER, 0.01);
  a.connectionOpened('outbound');
  const ea = await scrape(a);
  const eb = await scrape(b);
  assert.equal(value(ea, 'sidecar_requests_total', { code: '200' }), 1);
  assert.equal(find(eb, 'sidecar_requests_total').length, 0);
  assert.equal(value(eb, 'sidecar_connections_active', { direction: 'outbound' }), 0);
  assert.notEqual(a.registry, b.registry);
});

test('SidecarMetrics: isolation: registers nothing on prom-client\'s global registry', async () => {
  new SidecarMetrics().requestDone('inbound', 'GET', 200, PEER, 0);
  const global = await globalRegistry.metrics();
  assert.doesNotMatch(global, /sidecar_|process_cpu/);
});

test('SidecarMetrics: isolation: includes Node process metrics on its own registry by default, and not when disabled', async () => {
  assert.ok(find(await scrape(new SidecarMetrics()), 'process_cpu_user_seconds_total').length === 1);
  assert.equal(find(await scrape(new SidecarMetrics({ processMetrics: false })), 'process_cpu_user_seconds_total').length, 0);
});

test('SidecarMetrics: upstream budget and body limits: every overflow limit and body timeout reason has a series from the start, at 0 (closed label sets)', async () => {
  const e = await scrape(new SidecarMetrics({ processMetrics: false }));
  for (const direction of ['inbound', 'outbound']) {
    for (const limit of ['connection', 'caller', 'pool']) assert.equal(value(e, 'sidecar_upstream_overflow_total', { direction, limit }), 0);
    for (const reason of ['idle', 'min_rate']) assert.equal(value(e, 'sidecar_request_body_timeouts_total', { direction, reason }), 0);
    assert.equal(value(e, 'sidecar_streams_reset_before_upstream_total', { direction }), 0);
  }
  assert.equal(find(e, 'sidecar_upstream_overflow_total').length, 6, 'no other label values');
});

test('SidecarMetrics: upstream budget and body limits: counts each overflow, body timeout and early reset under its own labels', async () => {
  const m = new SidecarMetrics({ processMetrics: false });
  m.upstreamOverflow('inbound', 'caller');
  m.upstreamOverflow('inbound', 'caller');
  m.upstreamOverflow('outbound', 'pool');
  m.upstreamOverflow('inbound', 'connection');
  m.requestBodyTimeout('inbound', 'min_rate');
  m.requestBodyTimeout('outbound', 'idle');
  m.streamResetBeforeUpstream('inbound');
  const e = await scrape(m);
  assert.equal(value(e, 'sidecar_upstream_overflow_total', { direction: 'inbound', limit: 'caller' }), 2);
  assert.equal(value(e, 'sidecar_upstream_overflow_total', { direction: 'inbound', limit: 'connection' }), 1);
  assert.equal(value(e, 'sidecar_upstream_overflow_total', { direction: 'outbound', limit: 'pool' }), 1);
  assert.equal(value(e, 'sidecar_upstream_overflow_total', { direction: 'outbound', limit: 'caller' }), 0);
  assert.equal(value(e, 'sidecar_request_body_timeouts_total', { direction: 'inbound', reason: 'min_rate' }), 1);
  assert.equal(value(e, 'sidecar_request_body_timeouts_total', { direction: 'outbound', reason: 'idle' }), 1);
  assert.equal(value(e, 'sidecar_streams_reset_before_upstream_total', { direction: 'inbound' }), 1);
  assert.equal(value(e, 'sidecar_streams_reset_before_upstream_total', { direction: 'outbound' }), 0);
});

test('noopProxyMetrics: accepts every call of the ProxyMetrics interface', () => {
  const p: ProxyMetrics = noopProxyMetrics;
  p.requestDone('inbound', 'GET', 200, PEER, 0);
  p.handshakeError('outbound', 'x');
  p.authzDecision('deny', PEER);
  p.connectionOpened('inbound');
  p.connectionClosed('inbound');
  p.upstreamOverflow('inbound', 'caller');
  p.requestBodyTimeout('outbound', 'idle');
  p.streamResetBeforeUpstream('inbound');
  assert.ok(Object.isFrozen(p));
});
