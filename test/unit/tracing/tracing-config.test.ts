import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, TRACING_DEFAULTS } from '../../../sidecar/config/index.ts';

const BASE = { spiffe: { endpointSocket: 'unix:///tmp/agent.sock' } };

function problems(tracing: unknown): string[] {
  try {
    parseConfig({ ...BASE, tracing }, {}, 'test.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

test('tracing is off by default, with the documented defaults', () => {
  const c = parseConfig(BASE, {}, 'test.yaml');
  assert.deepEqual(c.tracing, TRACING_DEFAULTS);
  assert.equal(c.tracing.enabled, false);
});

test('every tracing key is read', () => {
  const c = parseConfig(
    { ...BASE, tracing: { enabled: true, endpoint: 'https://otel.example:4318/v1/traces', serviceName: 'orders', samplingRatio: 0.25, propagate: false, exportTimeout: '3s' } },
    {},
    'test.yaml',
  );
  assert.deepEqual(c.tracing, { enabled: true, endpoint: 'https://otel.example:4318/v1/traces', serviceName: 'orders', samplingRatio: 0.25, propagate: false, exportTimeoutMs: 3000 });
});

const rows: { name: string; tracing: unknown; problem: RegExp }[] = [
  { name: 'unknown key with a hint', tracing: { enable: true }, problem: /^tracing\.enable: unknown key \(did you mean "enabled"\?\)/ },
  { name: 'enabled must be a boolean', tracing: { enabled: 'yes' }, problem: /^tracing\.enabled: must be true or false/ },
  { name: 'endpoint must be a URL', tracing: { endpoint: 'collector:4318' }, problem: /^tracing\.endpoint: .*must use http or https|^tracing\.endpoint: .*URL/ },
  { name: 'endpoint scheme', tracing: { endpoint: 'ftp://127.0.0.1/v1/traces' }, problem: /^tracing\.endpoint: .*must use http or https/ },
  { name: 'endpoint without credentials', tracing: { endpoint: 'http://user:pw@127.0.0.1:4318/v1/traces' }, problem: /^tracing\.endpoint: must not contain user information/ },
  { name: 'endpoint without query', tracing: { endpoint: 'http://127.0.0.1:4318/v1/traces?key=1' }, problem: /^tracing\.endpoint: .*must not have a query or fragment/ },
  { name: 'serviceName not empty', tracing: { serviceName: ' ' }, problem: /^tracing\.serviceName: must not be empty/ },
  { name: 'samplingRatio above 1', tracing: { samplingRatio: 1.5 }, problem: /^tracing\.samplingRatio: .*must be from 0 to 1/ },
  { name: 'samplingRatio below 0', tracing: { samplingRatio: -0.1 }, problem: /^tracing\.samplingRatio: .*must be from 0 to 1/ },
  { name: 'samplingRatio a number', tracing: { samplingRatio: '1' }, problem: /^tracing\.samplingRatio: must be a number/ },
  { name: 'propagate a boolean', tracing: { propagate: 1 }, problem: /^tracing\.propagate: must be true or false/ },
  { name: 'exportTimeout a duration', tracing: { exportTimeout: 'soon' }, problem: /^tracing\.exportTimeout: / },
  { name: 'exportTimeout not zero', tracing: { exportTimeout: '0s' }, problem: /^tracing\.exportTimeout: / },
  { name: 'tracing a mapping', tracing: true, problem: /^tracing: must be a mapping/ },
];

for (const row of rows) {
  test(`tracing config: ${row.name}`, () => {
    const found = problems(row.tracing);
    assert.ok(found.some((p) => row.problem.test(p)), `problems: ${JSON.stringify(found)}`);
  });
}
