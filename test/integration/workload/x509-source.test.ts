/**
 * X509Source against an in-process dev agent on a real Unix socket: first
 * SVID, rotation, PermissionDenied and recovery, trust-domain removal, close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { verifyX509SvidChain } from '../../../sidecar/svid/index.ts';
import { X509Source, type X509SourceUpdate } from '../../../sidecar/workload/index.ts';
import { startDevAgent } from '../../support/dev-agent-harness.ts';

const fastBackoff = { initialMs: 50, maxMs: 500 };

/** Resolves with the first 'update' event matching `pred`; generous bound, asserts on the event. */
function nextUpdate(source: X509Source, pred: (ev: X509SourceUpdate) => boolean = () => true, timeoutMs = 20_000): Promise<X509SourceUpdate> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.off('update', on);
      reject(new Error(`no matching update within ${timeoutMs} ms (last error: ${source.lastError?.message})`));
    }, timeoutMs);
    const on = (ev: X509SourceUpdate): void => {
      if (!pred(ev)) return;
      clearTimeout(timer);
      source.off('update', on);
      resolve(ev);
    };
    source.on('update', on);
  });
}

test('X509Source gets the SVID and its chain verifies against the delivered bundle', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const source = await X509Source.create({ address: a.address(), timeoutMs: 10_000 });
  t.after(() => source.close());
  const svid = source.getX509Svid();
  assert.equal(svid.id.toString(), 'spiffe://example.org/workload');
  assert.ok(source.isReady());
  assert.match(svid.certChainPem(), /BEGIN CERTIFICATE/);
  const verified = verifyX509SvidChain(svid.certificates.map((c) => c.der), source);
  assert.equal(verified.id.toString(), 'spiffe://example.org/workload');
  assert.ok(source.getX509BundleForTrustDomain(TrustDomain.parse('example.org')));
  assert.equal(source.getX509BundleForTrustDomain(TrustDomain.parse('other.org')), undefined);
});

test('the source reads SPIFFE_ENDPOINT_SOCKET from the env it is given', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const source = await X509Source.create({ env: { SPIFFE_ENDPOINT_SOCKET: a.address() }, timeoutMs: 10_000 });
  t.after(() => source.close());
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/workload');
});

test('default SVID: svids[0], or the first one with the configured hint', async (t) => {
  const a = await startDevAgent({
    cleanup: t,
    workloads: { multi: { ids: ['spiffe://example.org/a', 'spiffe://example.org/b'], hints: ['external', 'internal'] } },
  });
  const first = await X509Source.create({ address: a.address(), timeoutMs: 10_000 });
  t.after(() => first.close());
  assert.equal(first.getX509Svid().id.toString(), 'spiffe://example.org/a');
  assert.equal(first.getX509Svids().length, 2);
  const hinted = await X509Source.create({ address: a.address(), hint: 'internal', timeoutMs: 10_000 });
  t.after(() => hinted.close());
  assert.equal(hinted.getX509Svid().id.toString(), 'spiffe://example.org/b');
  assert.equal(hinted.getX509Svid().hint, 'internal');
  const picked = await X509Source.create({ address: a.address(), picker: (s) => s.at(-1), timeoutMs: 10_000 });
  t.after(() => picked.close());
  assert.equal(picked.getX509Svid().id.toString(), 'spiffe://example.org/b');
});

test('a short TTL: the rotated SVID reaches a subscriber', async (t) => {
  const a = await startDevAgent({ cleanup: t, svidTtlMs: 2_000 });
  const source = await X509Source.create({ address: a.address(), timeoutMs: 10_000 });
  t.after(() => source.close());
  const before = source.getX509Svid();
  const ev = await nextUpdate(source, (e) => e.svid !== undefined && !e.svid.certificates[0]!.der.equals(before.certificates[0]!.der));
  assert.equal(ev.svid!.id.toString(), before.id.toString());
  assert.notEqual(ev.svid!.certificates[0]!.serialNumber, before.certificates[0]!.serialNumber);
  assert.ok(!ev.svid!.privateKeyPem().includes(before.privateKeyPem().slice(40, 80)), 'a new key with every rotation');
  assert.equal(source.getX509Svid(), ev.svid);
});

test('rotateNow sends exactly one new message', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const source = await X509Source.create({ address: a.address(), timeoutMs: 10_000 });
  t.after(() => source.close());
  let updates = 0;
  source.on('update', () => updates++);
  const next = nextUpdate(source);
  await a.agent.rotateNow();
  await next;
  assert.equal(updates, 1);
});

test('PermissionDenied first, then served once the identity is set', async (t) => {
  const a = await startDevAgent({ cleanup: t, workloads: { late: [] } });
  const errors: string[] = [];
  const pending = X509Source.create({ address: a.address(), timeoutMs: 20_000, backoff: fastBackoff });
  // Give the first attempt time to be refused.
  await new Promise((r) => setTimeout(r, 300));
  await a.agent.setWorkloadIds(a.socketPath(), ['spiffe://example.org/late']);
  const source = await pending;
  t.after(() => source.close());
  source.on('error', (e) => errors.push(e.code));
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/late');
  assert.equal(source.lastError?.code, 'workload.no_identity');
});

test('create() rejects after timeoutMs naming PermissionDenied when no identity is ever issued', async (t) => {
  const a = await startDevAgent({ cleanup: t, workloads: { none: [] } });
  await assert.rejects(X509Source.create({ address: a.address(), timeoutMs: 1_500, backoff: fastBackoff }), (err: unknown) => {
    const e = err as { code?: string; message: string };
    assert.equal(e.code, 'workload.timeout');
    assert.match(e.message, /PermissionDenied: no identity issued/);
    return true;
  });
});

test('identity withdrawn: the source stops using it (spec §6) and recovers when it returns', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const source = await X509Source.create({ address: a.address(), timeoutMs: 10_000, backoff: fastBackoff });
  t.after(() => source.close());
  const errors: string[] = [];
  source.on('error', (e) => errors.push(e.code));
  const dropped = nextUpdate(source, (e) => e.svid === undefined);
  await a.agent.setWorkloadIds(a.socketPath(), []);
  const ev = await dropped;
  assert.equal(ev.svids.length, 0);
  assert.equal(ev.bundles.size, 0);
  assert.equal(source.isReady(), false);
  assert.throws(() => source.getX509Svid(), { code: 'workload.no_svid' });
  assert.ok(errors.includes('workload.no_identity'));
  const back = nextUpdate(source, (e) => e.svid !== undefined);
  await a.agent.setWorkloadIds(a.socketPath(), ['spiffe://example.org/again']);
  assert.equal((await back).svid!.id.toString(), 'spiffe://example.org/again');
  assert.ok(source.isReady());
});

test('a trust domain missing from a later message is dropped (full state per message)', async (t) => {
  const a = await startDevAgent({
    cleanup: t,
    trustDomains: [{ name: 'example.org', federatesWith: ['partner.org'] }, { name: 'partner.org' }],
    workloads: { w: ['spiffe://example.org/w'] },
  });
  const source = await X509Source.create({ address: a.address(), timeoutMs: 10_000 });
  t.after(() => source.close());
  assert.deepEqual(source.bundles().trustDomains().map(String), ['example.org', 'partner.org']);
  const changed = nextUpdate(source, (e) => e.svid?.id.trustDomain.name === 'partner.org');
  await a.agent.setWorkloadIds(a.socketPath(), ['spiffe://partner.org/w']);
  const ev = await changed;
  assert.deepEqual(ev.bundles.trustDomains().map(String), ['partner.org']);
  assert.equal(source.getX509BundleForTrustDomain(TrustDomain.parse('example.org')), undefined);
});

test('CA rotation: new SVID from the new CA, bundle carries both roots', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const source = await X509Source.create({ address: a.address(), timeoutMs: 10_000 });
  t.after(() => source.close());
  const old = source.getX509Svid();
  const rotated = nextUpdate(source, (e) => (e.bundles.get(TrustDomain.parse('example.org'))?.authorities.length ?? 0) === 2 && e.svid !== old);
  await a.agent.rotateCa('example.org');
  const ev = await rotated;
  verifyX509SvidChain(ev.svid!.certificates.map((c) => c.der), ev.bundles);
  verifyX509SvidChain(old.certificates.map((c) => c.der), ev.bundles);
});

test('close(): getters throw workload.closed and no handle of the source stays open', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const countOf = (list: string[], kind: string) => list.filter((r) => r === kind).length;
  const before = process.getActiveResourcesInfo();
  const source = await X509Source.create({ address: a.address(), timeoutMs: 10_000 });
  source.close();
  assert.throws(() => source.getX509Svid(), { code: 'workload.closed' });
  assert.equal(source.isReady(), false);
  // Sockets and timers are released asynchronously; poll briefly.
  let after: string[] = [];
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    after = process.getActiveResourcesInfo();
    if (['PipeWrap', 'TCPSocketWrap', 'Timeout'].every((k) => countOf(after, k) <= countOf(before, k) + (k === 'Timeout' ? 1 : 0))) break;
  }
  for (const k of ['PipeWrap', 'TCPSocketWrap']) assert.ok(countOf(after, k) <= countOf(before, k), `${k}: ${after} vs ${before}`);
});

test('a hint no SVID carries: create() times out and says so', async (t) => {
  const a = await startDevAgent({ cleanup: t, workloads: { w: { ids: ['spiffe://example.org/a'], hints: ['external'] } } });
  await assert.rejects(X509Source.create({ address: a.address(), hint: 'internal', timeoutMs: 1_000 }), (err: unknown) => {
    const e = err as { code?: string; message: string };
    assert.equal(e.code, 'workload.timeout');
    assert.match(e.message, /matches the configured picker or hint/);
    return true;
  });
});
