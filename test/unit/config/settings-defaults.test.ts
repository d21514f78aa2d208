/**
 * The config defaults of the upstream budget and of the stripped inbound
 * headers are the forward module's own defaults. The budget is defined once
 * in core (both read it there); the stripped headers are written twice,
 * because config cannot import forward (module map), and kept equal here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SETTINGS_DEFAULTS } from '../../../sidecar/config/index.ts';
import { UPSTREAM_BUDGET_DEFAULTS } from '../../../sidecar/core/index.ts';
import { DEFAULT_STRIPPED_REQUEST_HEADERS } from '../../../sidecar/forward/index.ts';

test('limits defaults equal forward UPSTREAM_BUDGET_DEFAULTS', () => {
  const l = SETTINGS_DEFAULTS.limits;
  assert.deepEqual(
    {
      maxConcurrentRequestsPerConnection: l.maxConcurrentRequestsPerConnection,
      maxConcurrentRequestsPerCaller: l.maxConcurrentRequestsPerCaller,
      requestBodyIdleTimeoutMs: l.requestBodyIdleTimeoutMs,
      minUploadBytesPerSecond: l.minUploadBytesPerSecond,
    },
    { ...UPSTREAM_BUDGET_DEFAULTS },
  );
});

test('headers.stripInbound default equals forward DEFAULT_STRIPPED_REQUEST_HEADERS', () => {
  assert.deepEqual([...SETTINGS_DEFAULTS.headers.stripInbound], [...DEFAULT_STRIPPED_REQUEST_HEADERS]);
});
