import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { ManualClock, silentLogger } from '../../../sidecar/core/index.ts';
import { StreamWatch } from '../../../sidecar/workload/stream-watch.ts';
import { WorkloadApiError, type WorkloadApiErrorCode } from '../../../sidecar/workload/index.ts';

/** A stand-in for a grpc-js server stream: the test pushes messages and statuses. */
class FakeStream extends EventEmitter {
  cancelled = false;
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.end(status.CANCELLED, 'Cancelled on client');
  }
  message(m: string): void {
    this.emit('data', m);
  }
  end(code: number, details = ''): void {
    if (code !== status.OK) this.emit('error', Object.assign(new Error(details), { code }));
    this.emit('status', { code, details, metadata: undefined });
  }
}

function harness(parse: (m: string) => string = (m) => {
  if (m === 'bad') throw new WorkloadApiError('workload.bad_message', 'FetchX509SVID: invalid response: test');
  return m;
}) {
  const clock = new ManualClock(0);
  const streams: FakeStream[] = [];
  const updates: string[] = [];
  const errors: WorkloadApiErrorCode[] = [];
  const watch = new StreamWatch<string, string>({
    method: 'FetchX509SVID',
    open: () => {
      const s = new FakeStream();
      streams.push(s);
      return s as unknown as ClientReadableStream<string>;
    },
    parse,
    watcher: { onUpdate: (v) => updates.push(v), onError: (e) => errors.push(e.code) },
    clock,
    logger: silentLogger,
    backoff: { initialMs: 100, maxMs: 10_000, jitter: 'full', random: () => 1 },
  }).start();
  const current = (): FakeStream => streams.at(-1)!;
  return { clock, streams, updates, errors, watch, current };
}

test('messages reach the watcher in order', () => {
  const h = harness();
  h.current().message('a');
  h.current().message('b');
  assert.deepEqual(h.updates, ['a', 'b']);
  h.watch.cancel();
});

test('Unavailable reconnects after the backoff delay, driven by the clock', () => {
  const h = harness();
  h.current().end(status.UNAVAILABLE, 'connect ENOENT');
  assert.deepEqual(h.errors, ['workload.transient']);
  assert.equal(h.streams.length, 1);
  h.clock.advance(99);
  assert.equal(h.streams.length, 1, 'not before the delay');
  h.clock.advance(1);
  assert.equal(h.streams.length, 2, 'reconnected at the delay');
  // Second failure: the delay doubles (full jitter with random = 1).
  h.current().end(status.UNAVAILABLE);
  h.clock.advance(199);
  assert.equal(h.streams.length, 2);
  h.clock.advance(1);
  assert.equal(h.streams.length, 3);
  h.watch.cancel();
});

test('the backoff resets after a valid message, not after an invalid one', () => {
  const h = harness();
  for (let i = 0; i < 3; i++) {
    h.current().end(status.UNAVAILABLE);
    h.clock.advance(100 * 2 ** i);
  }
  assert.equal(h.streams.length, 4);
  h.current().message('bad');
  h.current().end(status.UNAVAILABLE);
  h.clock.advance(799);
  assert.equal(h.streams.length, 4, 'an invalid message must not reset the backoff');
  h.clock.advance(1);
  assert.equal(h.streams.length, 5);
  h.current().message('good');
  h.current().end(status.UNAVAILABLE);
  h.clock.advance(100);
  assert.equal(h.streams.length, 6, 'a valid message resets the backoff to the initial delay');
  h.watch.cancel();
});

test('a clean end of stream (OK) is reported and reconnected', () => {
  const h = harness();
  h.current().end(status.OK);
  assert.deepEqual(h.errors, ['workload.stream_ended']);
  h.clock.advance(100);
  assert.equal(h.streams.length, 2);
  h.watch.cancel();
});

test('a server-side Cancelled is retried', () => {
  const h = harness();
  h.current().end(status.CANCELLED, 'server shutting down');
  h.clock.advance(100);
  assert.equal(h.streams.length, 2);
  h.watch.cancel();
});

test('PermissionDenied is reported as workload.no_identity and retried', () => {
  const h = harness();
  h.current().end(status.PERMISSION_DENIED, 'no identity issued');
  assert.deepEqual(h.errors, ['workload.no_identity']);
  assert.equal(h.clock.pendingTimers, 1);
  h.clock.advance(100);
  assert.equal(h.streams.length, 2);
  h.watch.cancel();
});

for (const code of [status.INVALID_ARGUMENT, status.UNIMPLEMENTED]) {
  test(`status ${code} stops the watch: no retry timer, done resolves`, async () => {
    const h = harness();
    h.current().end(code, 'nope');
    assert.deepEqual(h.errors, ['workload.fatal_status']);
    assert.equal(h.clock.pendingTimers, 0);
    h.clock.advance(60_000);
    assert.equal(h.streams.length, 1);
    await h.watch.done;
  });
}

test('an invalid message is reported, the stream stays open, and state is not touched', () => {
  const h = harness();
  h.current().message('good');
  h.current().message('bad');
  assert.deepEqual(h.updates, ['good']);
  assert.deepEqual(h.errors, ['workload.bad_message']);
  assert.equal(h.current().cancelled, false);
  assert.equal(h.streams.length, 1);
  h.watch.cancel();
});

test('a parser throwing a plain error is wrapped as workload.bad_message', () => {
  const h = harness(() => {
    throw new TypeError('boom');
  });
  h.current().message('x');
  assert.deepEqual(h.errors, ['workload.bad_message']);
  h.watch.cancel();
});

test('cancel() cancels the stream and a pending retry, and reports nothing', async () => {
  const h = harness();
  h.watch.cancel();
  assert.equal(h.streams[0]!.cancelled, true);
  assert.deepEqual(h.errors, [], 'our own cancel is not an error');
  const h2 = harness();
  h2.current().end(status.UNAVAILABLE);
  assert.equal(h2.clock.pendingTimers, 1);
  h2.watch.cancel();
  assert.equal(h2.clock.pendingTimers, 0);
  h2.clock.advance(60_000);
  assert.equal(h2.streams.length, 1);
  await Promise.all([h.watch.done, h2.watch.done]);
});

test('a throwing watcher does not break the watch', () => {
  const clock = new ManualClock(0);
  const s = new FakeStream();
  const watch = new StreamWatch<string, string>({
    method: 'FetchX509SVID',
    open: () => s as unknown as ClientReadableStream<string>,
    parse: (m) => m,
    watcher: {
      onUpdate: () => {
        throw new Error('listener bug');
      },
      onError: () => {
        throw new Error('listener bug');
      },
    },
    clock,
    logger: silentLogger,
  }).start();
  s.message('a');
  s.end(status.UNAVAILABLE);
  assert.equal(clock.pendingTimers, 1);
  watch.cancel();
});
