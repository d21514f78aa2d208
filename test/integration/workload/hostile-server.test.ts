/**
 * A small hand-written Workload API server (grpc-js, the same proto) that
 * misbehaves on purpose: the client must keep the last good state when a
 * message is corrupt, and stop on fatal statuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { CertificateAuthority } from '../../../sidecar/devagent/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import {
  WorkloadApiClient,
  X509Source,
  loadWorkloadApiProto,
  type X509SourceUpdate,
  type X509SvidResponseMessage,
} from '../../../sidecar/workload/index.ts';
import { makeSocketDir } from '../../support/dev-agent-harness.ts';

type Stream = ServerWritableStream<unknown, X509SvidResponseMessage>;

interface Hostile {
  address: string;
  /** Resolves with the next FetchX509SVID call the client opens. */
  nextCall(): Promise<Stream>;
}

/** Starts a server whose FetchX509SVID handler hands each call to the test. */
async function hostileServer(t: { after(fn: () => unknown): void }, onCall?: (call: Stream) => void): Promise<Hostile> {
  const dir = makeSocketDir(t);
  const path = join(dir, 'hostile.sock');
  const server = new Server();
  const waiting: ((c: Stream) => void)[] = [];
  const queued: Stream[] = [];
  server.addService(loadWorkloadApiProto().service, {
    FetchX509SVID: (call: Stream) => {
      onCall?.(call);
      const w = waiting.shift();
      if (w) w(call);
      else queued.push(call);
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  t.after(() => server.forceShutdown());
  return {
    address: `unix://${path}`,
    nextCall: () => {
      const q = queued.shift();
      return q ? Promise.resolve(q) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

async function issue(ca: CertificateAuthority, id: string): Promise<X509SvidResponseMessage> {
  const r = await ca.issueX509Svid({ id: SpiffeId.parse(id), ttlMs: 3_600_000 });
  return {
    svids: [{ spiffe_id: id, x509_svid: r.chainDer, x509_svid_key: r.keyPkcs8Der, bundle: ca.bundleDer(), hint: '' }],
    crl: [],
    federated_bundles: {},
  };
}

/** An X509Source whose first message from the hostile server was a good SVID (`spiffe://example.org/good`); the call stays open for more. */
async function sourceOnGoodMessage(t: { after(fn: () => unknown): void }): Promise<{ ca: CertificateAuthority; good: X509SvidResponseMessage; call: Stream; source: X509Source }> {
  const ca = await CertificateAuthority.create({ trustDomain: TrustDomain.parse('example.org') });
  const good = await issue(ca, 'spiffe://example.org/good');
  const h = await hostileServer(t);
  const sourceP = X509Source.create({ address: h.address, timeoutMs: 10_000 });
  const call = await h.nextCall();
  call.write(good);
  const source = await sourceP;
  t.after(() => source.close());
  return { ca, good, call, source };
}

test('corrupt messages keep the last good state; the next good one is applied', async (t) => {
  const { ca, good, call, source } = await sourceOnGoodMessage(t);
  const better = await issue(ca, 'spiffe://example.org/better');
  const updates: X509SourceUpdate[] = [];
  const errors: string[] = [];
  source.on('update', (ev) => updates.push(ev));
  source.on('error', (e) => errors.push(`${e.code} ${e.message}`));

  const hostile: X509SvidResponseMessage[] = [
    good, // identical: no update event
    { ...good, svids: [{ ...good.svids[0]!, x509_svid: Buffer.from('garbage DER') }] },
    { ...good, svids: [] },
    { ...good, svids: [{ ...good.svids[0]!, x509_svid_key: better.svids[0]!.x509_svid_key }] },
    { ...good, federated_bundles: { 'partner.org': ca.bundleDer() } },
  ];
  for (const m of hostile) call.write(m);
  call.write(better);
  await waitFor(() => updates.length > 0);
  assert.equal(errors.length, 4, errors.join('\n'));
  assert.ok(errors.every((e) => e.startsWith('workload.bad_message')));
  assert.match(errors[0]!, /svids\[0\]/);
  assert.match(errors[1]!, /no SVIDs/);
  assert.match(errors[3]!, /not a trust-domain ID/);
  assert.equal(updates.length, 1, 'the duplicate good message must not emit');
  assert.equal(updates[0]!.svid!.id.toString(), 'spiffe://example.org/better');
  assert.equal(call.cancelled, false, 'a bad message does not make the client hang up');
});

test('the client keeps the previous SVID while only corrupt messages arrive', async (t) => {
  const { good, call, source } = await sourceOnGoodMessage(t);
  let errors = 0;
  source.on('error', () => errors++);
  call.write({ ...good, svids: [{ ...good.svids[0]!, bundle: Buffer.from('junk') }] });
  await waitFor(() => errors > 0);
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/good');
  assert.ok(source.isReady());
});

for (const [code, name] of [
  [status.INVALID_ARGUMENT, 'InvalidArgument'],
  [status.UNIMPLEMENTED, 'Unimplemented'],
] as const) {
  test(`${name} is fatal: create() rejects at once and the client does not redial`, async (t) => {
    let calls = 0;
    const h = await hostileServer(t, (call) => {
      calls++;
      call.emit('error', { code, details: 'go away' });
    });
    await assert.rejects(X509Source.create({ address: h.address, timeoutMs: 10_000, backoff: { initialMs: 20, maxMs: 50 } }), (err: unknown) => {
      const e = err as { code?: string; message: string };
      assert.equal(e.code, 'workload.fatal_status');
      assert.match(e.message, new RegExp(`${name}: go away`));
      return true;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls, 1);
  });
}

test('a server that ends the stream cleanly is redialled', async (t) => {
  const ca = await CertificateAuthority.create({ trustDomain: TrustDomain.parse('example.org') });
  const good = await issue(ca, 'spiffe://example.org/good');
  const h = await hostileServer(t);
  const client = new WorkloadApiClient({ address: h.address, backoff: { initialMs: 20, maxMs: 50 } });
  t.after(() => client.close());
  const errors: string[] = [];
  const got: string[] = [];
  const handle = client.watchX509Context({ onUpdate: (c) => got.push(c.svids[0]!.id.toString()), onError: (e) => errors.push(e.code) });
  t.after(() => handle.cancel());
  const first = await h.nextCall();
  first.end();
  const second = await h.nextCall();
  second.write(good);
  await waitFor(() => got.length === 1);
  assert.deepEqual(errors, ['workload.stream_ended']);
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
