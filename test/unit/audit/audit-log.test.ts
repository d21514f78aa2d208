import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Logger } from '../../../sidecar/core/index.ts';
import { AuditLog, AuditOptionsError, type AuditedRequest } from '../../../sidecar/audit/index.ts';
import { checkLine } from '../../support/audit-schema.ts';

const CALLER = 'spiffe://example.org/ns/a/sa/frontend';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function req(over: Partial<AuditedRequest> = {}): AuditedRequest {
  return {
    conn: { peerId: CALLER, peerAddress: '10.0.0.7' },
    method: 'GET',
    path: '/api/items?access_token=' + TOKEN,
    target: '/api/items?access_token=' + TOKEN,
    decision: 'allow',
    rule: 'frontend-reads',
    reason: '',
    status: 200,
    subject: '',
    clientId: '',
    dst: '127.0.0.1:8080',
    serverId: '',
    traceId: '',
    headers: ['authorization', `Bearer ${TOKEN}`, 'traceparent', `00-${TRACE}-00f067aa0ba902b7-01`],
    bodyBytes: 12,
    responseBytes: 345,
    ...over,
  };
}

function setup(burst = 2, perMinute = 60): { log: AuditLog; lines: string[]; clock: ManualClock } {
  const lines: string[] = [];
  const clock = new ManualClock(Date.parse('2025-03-04T05:06:07.089Z'));
  const log = new AuditLog({ out: { write: (l: string) => lines.push(l) }, clock, denyBurst: burst, denyPerMinute: perMinute });
  return { log, lines, clock };
}

function parsed(lines: string[]): Record<string, unknown>[] {
  return lines.map((l) => {
    assert.ok(l.endsWith('\n') && l.indexOf('\n') === l.length - 1, 'one line per write');
    return checkLine(l);
  });
}

test('AuditLog lines: writes an allowed inbound request with every schema field, path without query', () => {
  const { log, lines } = setup();
  log.requestDone(req(), 'inbound', 0.0123456);
  const [l] = parsed(lines);
  assert.deepEqual(l, {
    schema_version: 1,
    kind: 'decision',
    time: '2025-03-04T05:06:07.089Z',
    trace_id: TRACE,
    direction: 'inbound',
    caller_id: CALLER,
    server_id: '',
    source_address: '10.0.0.7',
    method: 'GET',
    path: '/api/items',
    decision: 'allow',
    rule: 'frontend-reads',
    reason: '',
    status: 200,
    duration_ms: 12.346,
    bytes_in: 12,
    bytes_out: 345,
  });
});

const rows: { name: string; over: Partial<AuditedRequest>; direction?: 'inbound' | 'outbound'; want: Record<string, unknown> | null }[] = [
  { name: 'end user: subject and client id present', over: { subject: 'alice', clientId: 'web-app' }, want: { subject: 'alice', client_id: 'web-app' } },
  { name: 'deny with its rule and reason', over: { decision: 'deny', rule: 'no-admin', reason: 'denied_by_rule', status: 403, dst: '' }, want: { decision: 'deny', rule: 'no-admin', reason: 'denied_by_rule', status: 403 } },
  { name: 'trace id set by tracing wins over the header', over: { traceId: 'a'.repeat(32) }, want: { trace_id: 'a'.repeat(32) } },
  { name: 'invalid traceparent: empty trace id', over: { headers: ['traceparent', 'garbage'] }, want: { trace_id: '' } },
  { name: 'inbound target normalised by enforcement is the path', over: { path: '/a/../b?x=1', target: '/b?x=1' }, want: { path: '/b' } },
  { name: 'outbound forwarded: allow, server id', over: { decision: '', conn: { peerId: '' }, serverId: 'spiffe://example.org/api', rule: '' }, direction: 'outbound', want: { decision: 'allow', caller_id: '', server_id: 'spiffe://example.org/api', source_address: '' } },
  { name: 'outbound answered locally: deny', over: { decision: '', conn: { peerId: '' }, dst: '', status: 404, reason: 'no_route' }, direction: 'outbound', want: { decision: 'deny', reason: 'no_route' } },
  { name: 'client gone before any decision: no line', over: { decision: '', dst: '', status: 0, reason: 'client_abort' }, want: null },
];
for (const r of rows) {
  test(`AuditLog lines: ${r.name}`, () => {
    const { log, lines } = setup();
    log.requestDone(req(r.over), r.direction ?? 'inbound', 0.001);
    if (r.want === null) return assert.equal(lines.length, 0);
    const [l] = parsed(lines);
    for (const [k, v] of Object.entries(r.want)) assert.deepEqual(l![k], v, k);
  });
}

test('AuditLog lines: leaves subject and client id out without an end user', () => {
  const { log, lines } = setup();
  log.requestDone(req(), 'inbound', 0);
  const [l] = parsed(lines);
  assert.ok(!('subject' in l!) && !('client_id' in l!));
});

test('AuditLog lines: writes one extra line per matched dry-run rule', () => {
  const { log, lines } = setup();
  log.requestDone(
    req({ dryRun: [{ rule: 'future-deny', outcome: 'would_deny' }, { rule: 'future-allow', outcome: 'would_allow' }] }),
    'inbound',
    0,
  );
  const ls = parsed(lines);
  assert.deepEqual(
    ls.map((l) => [l['decision'], l['rule'], l['reason']]),
    [['allow', 'frontend-reads', ''], ['would_deny', 'future-deny', 'dry_run'], ['would_allow', 'future-allow', 'dry_run']],
  );
});

test('AuditLog lines: never writes the query, the token or any other header', () => {
  const { log, lines } = setup();
  log.requestDone(req({ subject: 'alice', dryRun: [{ rule: 'r', outcome: 'would_deny' }] }), 'inbound', 0);
  log.requestDone(req({ decision: 'deny', dst: '', status: 401, reason: 'invalid_token' }), 'inbound', 0);
  assert.equal(lines.length, 3);
  for (const l of lines) {
    assert.ok(!l.includes('?'), l);
    assert.ok(!l.includes('access_token') && !l.includes(TOKEN) && !l.includes('Bearer'), l);
  }
});

test('AuditLog deny rate limit: a deny flood from one caller is cut to the burst, then summarised when the bucket refills', () => {
  const { log, lines, clock } = setup(2, 60);
  const deny = req({ decision: 'deny', rule: '', reason: 'caller_not_listed', status: 403, dst: '', dryRun: [{ rule: 'x', outcome: 'would_deny' }] });
  for (let i = 0; i < 1000; i++) log.requestDone(deny, 'inbound', 0);
  assert.equal(lines.length, 4, 'two denies written, each with its dry-run line');
  // Other callers and allowed requests are not affected.
  log.requestDone(req({ ...deny, conn: { peerId: 'spiffe://example.org/other' } }), 'inbound', 0);
  log.requestDone(req(), 'inbound', 0);
  assert.equal(lines.length, 7);
  clock.advance(1000);
  log.requestDone(deny, 'inbound', 0);
  const ls = parsed(lines.slice(7));
  assert.deepEqual(ls[0], {
    schema_version: 1,
    kind: 'denies_suppressed',
    time: '2025-03-04T05:06:08.089Z',
    caller_id: CALLER,
    count: 998,
    since: '2025-03-04T05:06:07.089Z',
    message: `998 denies suppressed for caller ${CALLER}`,
  });
  assert.equal(ls[1]!['decision'], 'deny');
});

test('AuditLog deny rate limit: close() reports denies still held back', () => {
  const { log, lines } = setup(1, 1);
  const deny = req({ decision: 'deny', status: 403, dst: '' });
  for (let i = 0; i < 5; i++) log.requestDone(deny, 'inbound', 0);
  log.close();
  const ls = parsed(lines);
  assert.equal(ls.length, 2);
  assert.equal(ls[1]!['count'], 4);
});

const bad: [string, Record<string, number>][] = [
  ['denyBurst 0', { denyBurst: 0 }],
  ['denyBurst fractional', { denyBurst: 1.5 }],
  ['denyPerMinute 0', { denyPerMinute: 0 }],
  ['maxCallers 0', { maxCallers: 0 }],
];
for (const [name, over] of bad) {
  test(`AuditLog options and outputs: refuses ${name}`, () => {
    assert.throws(
      () => new AuditLog({ clock: new ManualClock(0), denyBurst: 1, denyPerMinute: 1, ...over }),
      (err: unknown) => err instanceof AuditOptionsError && err.code === 'audit.bad_options' && err.message.includes(Object.keys(over)[0]!),
    );
  });
}

test('AuditLog options and outputs: without a stream, lines go through the logger as the audit field', () => {
  const seen: [Record<string, unknown>, string | undefined][] = [];
  const logger: Logger = {
    debug() {},
    info: (o, m) => void seen.push([o, m]),
    warn() {},
    error() {},
    child: () => logger,
  };
  const log = new AuditLog({ clock: new ManualClock(0), denyBurst: 1, denyPerMinute: 1, logger });
  log.requestDone(req(), 'inbound', 0);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]![1], 'audit');
  checkLine(JSON.stringify(seen[0]![0]['audit']));
});

test('AuditLog options and outputs: a failing stream does not throw into the proxy', () => {
  const errors: unknown[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (o) => void errors.push(o), child: () => logger };
  const log = new AuditLog({
    out: { write: () => { throw new Error('EPIPE'); } },
    clock: new ManualClock(0),
    denyBurst: 1,
    denyPerMinute: 1,
    logger,
  });
  log.requestDone(req(), 'inbound', 0);
  log.requestDone(req(), 'inbound', 0);
  assert.equal(errors.length, 1, 'told once');
});

test('connection decisions (TCP tunnels, opaque ports): one schema-valid line per decision, method TCP, no path, dry-run lines too', () => {
  const { log, lines } = setup();
  log.connectionDone(CALLER, '10.0.0.7', '127.0.0.1:5432', { allow: true, rule: 'pg', dryRun: [{ rule: 'try-deny', outcome: 'would_deny' }] });
  log.connectionDone(CALLER, '10.0.0.7', '127.0.0.1:5432', { allow: false, reason: 'caller_not_listed', rule: undefined, dryRun: [] });
  const out = parsed(lines);
  assert.equal(out.length, 3);
  assert.deepEqual(
    out.map((l) => [l['method'], l['path'], l['decision'], l['rule'], l['reason'], l['status'], l['caller_id'], l['source_address']]),
    [
      ['TCP', '', 'allow', 'pg', '', 0, CALLER, '10.0.0.7'],
      ['TCP', '', 'would_deny', 'try-deny', 'dry_run', 0, CALLER, '10.0.0.7'],
      ['TCP', '', 'deny', '', 'caller_not_listed', 0, CALLER, '10.0.0.7'],
    ],
  );
});

test('connection decisions (TCP tunnels, opaque ports): denied connections share the per-caller rate limit', () => {
  const { log, lines } = setup(2);
  for (let i = 0; i < 5; i++) log.connectionDone(CALLER, '10.0.0.7', 'x', { allow: false, reason: 'no_matching_rule', rule: undefined, dryRun: [] });
  assert.equal(parsed(lines).length, 2);
});
