/**
 * The dev agent seen from the wire: a raw grpc-js client checks SPIRE's
 * behaviour (security header, statuses and messages), and the Workload API
 * client checks JWT-SVIDs, federation and bundle streams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Metadata, credentials, status, type MethodDefinition, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { DevAgent } from '../../../sidecar/devagent/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import {
  JwtSource,
  WorkloadApiClient,
  WorkloadApiError,
  fromStruct,
  loadWorkloadApiProto,
  type WorkloadApiService,
} from '../../../sidecar/workload/index.ts';
import { makeSocketDir, startDevAgent } from '../../support/dev-agent-harness.ts';

const service: WorkloadApiService = loadWorkloadApiProto().service;
const streamMethods = ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles', 'FetchWITSVID', 'FetchWITBundles'] as const;

function rawClient(t: { after(fn: () => unknown): void }, address: string): Client {
  const c = new Client(address, credentials.createInsecure());
  t.after(() => c.close());
  return c;
}

function header(...values: string[]): Metadata {
  const md = new Metadata();
  for (const v of values) md.add('workload.spiffe.io', v);
  return md;
}

/** Opens a server stream without any help from our client and resolves with its final status and the messages before it. */
function streamStatus(c: Client, method: (typeof streamMethods)[number], md: Metadata): Promise<{ status: StatusObject; messages: unknown[] }> {
  const def = service[method] as MethodDefinition<unknown, unknown>;
  const messages: unknown[] = [];
  return new Promise((resolve) => {
    const s = c.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, {} as never, md);
    s.on('data', (m: unknown) => messages.push(m));
    s.on('error', () => {});
    s.on('status', (st: StatusObject) => resolve({ status: st, messages }));
  });
}

function unary<Req>(c: Client, method: 'FetchJWTSVID' | 'ValidateJWTSVID', req: Req, md: Metadata): Promise<{ err: ServiceError | null; res: unknown }> {
  const def = service[method];
  return new Promise((resolve) => {
    c.makeUnaryRequest(def.path, def.requestSerialize as never, def.responseDeserialize, req as never, md, (err: ServiceError | null, res?: unknown) =>
      resolve({ err, res }),
    );
  });
}

for (const [label, md] of [
  ['missing', () => new Metadata()],
  ['"TRUE" (the value is case-sensitive)', () => header('TRUE')],
  ['"false"', () => header('false')],
  ['given twice', () => header('true', 'true')],
] as const) {
  test(`security header ${label}: InvalidArgument on every RPC`, async (t) => {
    const a = await startDevAgent({ cleanup: t });
    const c = rawClient(t, a.address());
    for (const m of streamMethods) {
      const { status: st, messages } = await streamStatus(c, m, md());
      assert.equal(st.code, status.INVALID_ARGUMENT, m);
      assert.equal(st.details, 'security header missing from request', m);
      assert.equal(messages.length, 0, m);
    }
    for (const [m, req] of [
      ['FetchJWTSVID', { audience: ['x'], spiffe_id: '' }],
      ['ValidateJWTSVID', { audience: 'x', svid: 'y' }],
    ] as const) {
      const { err } = await unary(c, m, req, md());
      assert.equal(err?.code, status.INVALID_ARGUMENT, m);
      assert.equal(err?.details, 'security header missing from request', m);
    }
  });
}

test('WIT RPCs answer Unimplemented, as SPIRE does', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const c = rawClient(t, a.address());
  const svid = await streamStatus(c, 'FetchWITSVID', header('true'));
  assert.equal(svid.status.code, status.UNIMPLEMENTED);
  assert.equal(svid.status.details, 'fetching WIT-SVIDs is not implemented');
  const bundles = await streamStatus(c, 'FetchWITBundles', header('true'));
  assert.equal(bundles.status.code, status.UNIMPLEMENTED);
  assert.equal(bundles.status.details, 'fetching WIT bundles is not implemented');
});

test('no identity: every stream and FetchJWTSVID answer PermissionDenied "no identity issued"', async (t) => {
  const a = await startDevAgent({ cleanup: t, workloads: { nobody: [] } });
  const c = rawClient(t, a.address());
  for (const m of ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles'] as const) {
    const { status: st } = await streamStatus(c, m, header('true'));
    assert.equal(st.code, status.PERMISSION_DENIED, m);
    assert.equal(st.details, 'no identity issued', m);
  }
  const { err } = await unary(c, 'FetchJWTSVID', { audience: ['x'], spiffe_id: '' }, header('true'));
  assert.equal(err?.code, status.PERMISSION_DENIED);
  assert.equal(err?.details, 'no identity issued');
});

test('an open X.509 stream ends with PermissionDenied when the identity is withdrawn', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const c = rawClient(t, a.address());
  const p = streamStatus(c, 'FetchX509SVID', header('true'));
  await new Promise((r) => setTimeout(r, 200));
  await a.agent.setWorkloadIds(a.socketPath(), []);
  const { status: st, messages } = await p;
  assert.equal(messages.length, 1, 'the first message came at once');
  assert.equal(st.code, status.PERMISSION_DENIED);
  assert.equal(st.details, 'no identity issued');
});

test('FetchJWTSVID argument checks, with SPIRE messages', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const c = rawClient(t, a.address());
  const md = (): Metadata => header('true');
  let r = await unary(c, 'FetchJWTSVID', { audience: [], spiffe_id: '' }, md());
  assert.equal(r.err?.code, status.INVALID_ARGUMENT);
  assert.equal(r.err?.details, 'audience must be specified');
  r = await unary(c, 'FetchJWTSVID', { audience: ['x'], spiffe_id: 'not an id' }, md());
  assert.equal(r.err?.code, status.INVALID_ARGUMENT);
  assert.match(r.err!.details, /^invalid requested SPIFFE ID: /);
  r = await unary(c, 'FetchJWTSVID', { audience: ['x'], spiffe_id: 'spiffe://example.org/someone-else' }, md());
  assert.equal(r.err?.code, status.PERMISSION_DENIED);
  assert.equal(r.err?.details, 'no identity issued');
  r = await unary(c, 'ValidateJWTSVID', { audience: '', svid: 'x' }, md());
  assert.equal(r.err?.details, 'audience must be specified');
  r = await unary(c, 'ValidateJWTSVID', { audience: 'x', svid: '' }, md());
  assert.equal(r.err?.details, 'svid must be specified');
  r = await unary(c, 'ValidateJWTSVID', { audience: 'x', svid: 'a.b.c' }, md());
  assert.equal(r.err?.code, status.INVALID_ARGUMENT);
});

test('JWT-SVID round trip: mint, validate on the agent (claims as Struct), validate locally', async (t) => {
  const a = await startDevAgent({ cleanup: t, workloads: { w: { ids: ['spiffe://example.org/w', 'spiffe://example.org/v'], hints: ['', 'second'] } } });
  const client = new WorkloadApiClient({ address: a.address() });
  t.after(() => client.close());
  const svid = await client.fetchJwtSvid({ audience: ['backend', 'extra'] });
  assert.equal(svid.id.toString(), 'spiffe://example.org/w');
  assert.deepEqual(svid.audience, ['backend', 'extra']);
  const all = await client.fetchJwtSvids({ audience: ['backend'] });
  assert.deepEqual(all.map((s) => [s.id.toString(), s.hint]), [
    ['spiffe://example.org/w', ''],
    ['spiffe://example.org/v', 'second'],
  ]);
  const v = await client.fetchJwtSvid({ audience: ['backend'], subject: SpiffeId.parse('spiffe://example.org/v') });
  assert.equal(v.id.toString(), 'spiffe://example.org/v');

  const validated = await client.validateJwtSvid(svid.token, 'backend');
  assert.equal(validated.id.toString(), 'spiffe://example.org/w');
  // The raw response carries the claims as a google.protobuf.Struct, aud as a list.
  const raw = await unary(rawClient(t, a.address()), 'ValidateJWTSVID', { audience: 'backend', svid: svid.token }, header('true'));
  const res = raw.res as { spiffe_id: string; claims: Parameters<typeof fromStruct>[0] };
  const claims = fromStruct(res.claims);
  assert.equal(claims['sub'], 'spiffe://example.org/w');
  assert.deepEqual(claims['aud'], ['backend', 'extra']);
  assert.equal(typeof claims['exp'], 'number');
  await assert.rejects(client.validateJwtSvid(svid.token, 'someone-else'), (err: unknown) => {
    assert.ok(err instanceof WorkloadApiError);
    assert.equal(err.status?.name, 'InvalidArgument');
    return true;
  });

  const jwt = await JwtSource.create({ client, timeoutMs: 10_000 });
  t.after(() => jwt.close());
  assert.equal(jwt.validate(svid.token, 'backend').id.toString(), 'spiffe://example.org/w');
  assert.throws(() => jwt.validate(svid.token, 'nope'));
});

test('federation: federated bundles in FetchX509SVID, FetchX509Bundles and FetchJWTBundles; tokens of the partner validate', async (t) => {
  const a = await startDevAgent({
    cleanup: t,
    trustDomains: [{ name: 'example.org', federatesWith: ['partner.org'] }, { name: 'partner.org' }],
    workloads: { front: ['spiffe://example.org/front'], partner: ['spiffe://partner.org/api'] },
  });
  const front = new WorkloadApiClient({ address: a.address('front') });
  const partner = new WorkloadApiClient({ address: a.address('partner') });
  t.after(() => {
    front.close();
    partner.close();
  });
  const ctx = await front.fetchX509Context();
  assert.deepEqual(ctx.bundles.trustDomains().map(String), ['example.org', 'partner.org']);
  assert.ok(ctx.bundles.get(TrustDomain.parse('partner.org'))!.toDer().equals(a.agent.bundleDer('partner.org')));
  assert.deepEqual((await front.fetchX509Bundles()).trustDomains().map(String), ['example.org', 'partner.org']);
  assert.deepEqual((await front.fetchJwtBundles()).trustDomains().map(String), ['example.org', 'partner.org']);
  // Federation is one-directional: partner.org workloads do not receive example.org.
  assert.deepEqual((await partner.fetchX509Context()).bundles.trustDomains().map(String), ['partner.org']);

  const token = (await partner.fetchJwtSvid({ audience: ['front'] })).token;
  assert.equal((await front.validateJwtSvid(token, 'front')).id.toString(), 'spiffe://partner.org/api');
  const jwt = await JwtSource.create({ client: front, timeoutMs: 10_000 });
  t.after(() => jwt.close());
  assert.equal(jwt.validate(token, 'front').id.toString(), 'spiffe://partner.org/api');
  // And the reverse direction is refused: partner.org does not trust example.org.
  const frontToken = (await front.fetchJwtSvid({ audience: ['partner'] })).token;
  await assert.rejects(partner.validateJwtSvid(frontToken, 'partner'), { code: 'workload.fatal_status' });
});

test('bundle streams skip unchanged messages; the X.509 SVID stream sends every rotation', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  const client = new WorkloadApiClient({ address: a.address() });
  t.after(() => client.close());
  let bundleMsgs = 0;
  let svidMsgs = 0;
  const hb = client.watchX509Bundles({ onUpdate: () => bundleMsgs++ });
  const hs = client.watchX509Context({ onUpdate: () => svidMsgs++ });
  t.after(() => {
    hb.cancel();
    hs.cancel();
  });
  await waitFor(() => bundleMsgs === 1 && svidMsgs === 1);
  await a.agent.rotateNow();
  await waitFor(() => svidMsgs === 2);
  assert.equal(bundleMsgs, 1, 'an SVID rotation does not change the bundle');
  await a.agent.rotateCa('example.org');
  await waitFor(() => bundleMsgs === 2);
});

test('sockets: mode 0600 by default, parent directory created, files removed on stop()', async (t) => {
  const dir = makeSocketDir(t);
  const path = join(dir, 'nested', 'deeper', 'w.sock');
  const open = join(dir, 'open.sock');
  const agent = await DevAgent.start({
    trustDomains: [{ name: 'example.org' }],
    workloads: [
      { socketPath: path, ids: ['spiffe://example.org/w'] },
      { socketPath: open, ids: ['spiffe://example.org/o'], socketMode: 0o666 },
    ],
    svidTtlMs: 3_600_000,
  });
  t.after(() => agent.stop());
  assert.ok(statSync(path).isSocket());
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(open).mode & 0o777, 0o666);
  assert.deepEqual(agent.socketPaths, [path, open]);
  await agent.stop();
  assert.equal(existsSync(path), false);
  assert.equal(existsSync(open), false);
});

test('a stale socket file is replaced; a regular file in the way is refused', async (t) => {
  const a = await startDevAgent({ cleanup: t });
  // Restart on the same directory without removing the socket (as after SIGKILL).
  const again = await startDevAgent({ cleanup: t, dir: a.dir });
  assert.ok(statSync(again.socketPath()).isSocket());
  const dir = makeSocketDir(t);
  const file = join(dir, 'file.sock');
  writeFileSync(file, 'not a socket');
  await assert.rejects(
    DevAgent.start({ trustDomains: [{ name: 'example.org' }], workloads: [{ socketPath: file, ids: ['spiffe://example.org/x'] }], svidTtlMs: 60_000 }),
    /is not a socket; refusing to replace it/,
  );
});

test('bad options are reported together as devagent.bad_config', async () => {
  await assert.rejects(
    DevAgent.start({
      trustDomains: [{ name: 'Example.org' }, { name: 'partner.org', federatesWith: ['nowhere.org'] }],
      workloads: [{ socketPath: 'relative.sock', ids: ['spiffe://other.org/x', 'spiffe://partner.org'] }],
      svidTtlMs: 10,
    }),
    (err: unknown) => {
      const e = err as { code?: string; message: string };
      assert.equal(e.code, 'devagent.bad_config');
      for (const part of ['Example.org', 'nowhere.org', 'socketPath must be absolute', 'other.org', 'has no path', 'svidTtlMs']) {
        assert.ok(e.message.includes(part), `${e.message} should mention ${part}`);
      }
      return true;
    },
  );
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
