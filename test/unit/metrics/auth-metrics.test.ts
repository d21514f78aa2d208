/** End-user identity metrics: names, labels, bounds, and key-set age read at scrape time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { AuthMetrics } from '../../../sidecar/metrics/index.ts';

test('token checks, refusals, dry runs and introspection are counted with their labels', async () => {
  const registry = new Registry();
  const m = new AuthMetrics(registry);
  m.tokenChecked('corp', 'valid');
  m.tokenChecked('corp', 'expired');
  m.refused('principal_required');
  m.dryRun('try-deny', 'would_deny');
  m.request('edge', 'valid');
  m.cacheHit('edge');
  m.keyFetch('corp', 'ok');
  const text = await registry.metrics();
  for (const line of [
    'sidecar_token_checks_total{provider="corp",result="valid"} 1',
    'sidecar_token_checks_total{provider="corp",result="expired"} 1',
    'sidecar_requests_refused_total{reason="principal_required"} 1',
    'sidecar_policy_dry_run_total{rule="try-deny",outcome="would_deny"} 1',
    'sidecar_token_introspection_requests_total{provider="edge",result="valid"} 1',
    'sidecar_token_introspection_cache_hits_total{provider="edge"} 1',
    'sidecar_token_key_fetches_total{provider="corp",result="ok"} 1',
  ]) {
    assert.ok(text.includes(line), `missing: ${line}`);
  }
});

test('dry-run rule labels are bounded: names beyond 64 become overflow', async () => {
  const registry = new Registry();
  const m = new AuthMetrics(registry);
  for (let i = 0; i < 70; i++) m.dryRun(`rule-${i}`, 'would_allow');
  const text = await registry.metrics();
  assert.ok(text.includes('sidecar_policy_dry_run_total{rule="overflow",outcome="would_allow"} 6'));
  assert.ok(!text.includes('rule-64'));
});

test('key-set age grows between fetches: read from the tracker at scrape time', async () => {
  const registry = new Registry();
  const m = new AuthMetrics(registry);
  let now = 1_000_000;
  m.trackKeySets(() => [{ provider: 'corp', fetchedAtMs: 1_000_000 }, { provider: 'down', fetchedAtMs: undefined }], () => now);
  now += 90_000;
  const text = await registry.metrics();
  assert.ok(text.includes('sidecar_token_key_set_age_seconds{provider="corp"} 90'), text);
  assert.ok(!text.includes('provider="down"'), 'no age before the first fetch');
});
