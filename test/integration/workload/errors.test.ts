/** Endpoint problems surface as clear, typed errors within the caller's bound. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WorkloadApiClient, X509Source, WorkloadApiError } from '../../../sidecar/workload/index.ts';
import { makeSocketDir } from '../../support/dev-agent-harness.ts';

test('missing socket: create() gives up after timeoutMs and says why', async (t) => {
  const dir = makeSocketDir(t);
  const address = `unix://${join(dir, 'missing.sock')}`;
  await assert.rejects(X509Source.create({ address, timeoutMs: 1_000, backoff: { initialMs: 50, maxMs: 200 } }), (err: unknown) => {
    assert.ok(err instanceof WorkloadApiError);
    assert.equal(err.code, 'workload.timeout');
    assert.match(err.message, /no usable update within 1000 ms/);
    assert.match(err.message, /Unavailable/);
    assert.match(err.message, /ENOENT/);
    return true;
  });
});

test('missing socket: a one-shot fetch fails at once with Unavailable', async (t) => {
  const dir = makeSocketDir(t);
  const client = new WorkloadApiClient({ address: `unix://${join(dir, 'missing.sock')}` });
  t.after(() => client.close());
  await assert.rejects(client.fetchX509Context(), (err: unknown) => {
    assert.ok(err instanceof WorkloadApiError);
    assert.equal(err.code, 'workload.transient');
    assert.equal(err.status?.name, 'Unavailable');
    return true;
  });
});

test('abort signal: create() rejects with workload.aborted', async (t) => {
  const dir = makeSocketDir(t);
  const ac = new AbortController();
  const p = X509Source.create({ address: `unix://${join(dir, 'missing.sock')}`, signal: ac.signal });
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(p, { code: 'workload.aborted' });
});

test('malformed SPIFFE_ENDPOINT_SOCKET: workload.bad_address before any dialling', async () => {
  await assert.rejects(X509Source.create({ env: { SPIFFE_ENDPOINT_SOCKET: 'unix://agent/run/agent.sock' } }), {
    code: 'workload.bad_address',
  });
  assert.throws(() => new WorkloadApiClient({ env: { SPIFFE_ENDPOINT_SOCKET: 'tcp://localhost:8081' } }), (err: unknown) => {
    assert.ok(err instanceof WorkloadApiError);
    assert.equal(err.code, 'workload.bad_address');
    assert.match(err.message, /DNS names are not allowed/);
    return true;
  });
});

test('unset SPIFFE_ENDPOINT_SOCKET: workload.no_address naming the variable', async () => {
  await assert.rejects(X509Source.create({ env: {} }), (err: unknown) => {
    assert.ok(err instanceof WorkloadApiError);
    assert.equal(err.code, 'workload.no_address');
    assert.match(err.message, /SPIFFE_ENDPOINT_SOCKET/);
    return true;
  });
});

test('calls on a closed client fail with workload.closed', async () => {
  const client = new WorkloadApiClient({ address: 'unix:///nonexistent/agent.sock' });
  client.close();
  await assert.rejects(client.fetchX509Context(), { code: 'workload.closed' });
  assert.throws(() => client.watchX509Context({ onUpdate() {} }), { code: 'workload.closed' });
});
