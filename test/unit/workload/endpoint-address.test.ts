import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SPIFFE_ENDPOINT_SOCKET,
  WorkloadApiError,
  endpointFromEnv,
  parseEndpointAddress,
  resolveEndpoint,
} from '../../../sidecar/workload/index.ts';

// One row per rule of the Workload Endpoint spec §4 (plus the grpc-js
// authority trap); each bad row names the message fragment of its own rule,
// so removing that check makes the row fail.
const valid: { uri: string; want: Record<string, unknown> }[] = [
  { uri: 'unix:///run/spire/agent.sock', want: { kind: 'unix', path: '/run/spire/agent.sock', target: 'unix:///run/spire/agent.sock' } },
  { uri: 'unix:/run/spire/agent.sock', want: { kind: 'unix', path: '/run/spire/agent.sock', target: 'unix:///run/spire/agent.sock' } },
  { uri: 'UNIX:///tmp/a.sock', want: { kind: 'unix', path: '/tmp/a.sock' } },
  { uri: 'unix:///tmp/with%20space.sock', want: { kind: 'unix', path: '/tmp/with space.sock', target: 'unix:///tmp/with space.sock' } },
  { uri: 'tcp://127.0.0.1:8000', want: { kind: 'tcp', host: '127.0.0.1', port: 8000, target: 'ipv4:127.0.0.1:8000' } },
  { uri: 'tcp://[::1]:8000', want: { kind: 'tcp', host: '::1', port: 8000, target: 'ipv6:[::1]:8000' } },
  { uri: 'tcp://10.0.0.1:65535', want: { kind: 'tcp', port: 65535 } },
];

for (const { uri, want } of valid) {
  test(`parseEndpointAddress accepts ${uri}`, () => {
    const got = parseEndpointAddress(uri) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, k);
  });
}

const invalid: { uri: string; problem: string }[] = [
  { uri: '', problem: 'address is empty' },
  { uri: '/run/spire/agent.sock', problem: 'missing scheme' },
  { uri: 'http://127.0.0.1:80', problem: 'scheme must be "unix" or "tcp"' },
  { uri: 'npipe:foo', problem: 'scheme must be "unix" or "tcp"' },
  // unix
  { uri: 'unix://host/run/agent.sock', problem: 'an authority ("host") is not allowed' },
  { uri: 'unix://foo', problem: 'an authority ("foo") is not allowed' },
  { uri: 'unix://user@/run/agent.sock', problem: 'userinfo is not allowed' },
  { uri: 'unix:', problem: 'the socket path is empty' },
  { uri: 'unix://', problem: 'the socket path is empty' },
  { uri: 'unix:///', problem: 'the socket path is empty' },
  { uri: 'unix:relative/agent.sock', problem: 'must be absolute' },
  { uri: 'unix:///run/agent.sock?x=1', problem: 'a query is not allowed' },
  { uri: 'unix:///run/agent.sock#frag', problem: 'a fragment is not allowed' },
  { uri: 'unix:///run/%zz.sock', problem: 'invalid percent-encoding' },
  { uri: 'unix:///run/a%00b.sock', problem: 'NUL byte' },
  // tcp
  { uri: 'tcp:127.0.0.1:8000', problem: 'expected tcp://IP:port' },
  { uri: 'tcp://127.0.0.1:8000/foo', problem: 'a path is not allowed' },
  { uri: 'tcp://127.0.0.1:8000?x=1', problem: 'a query is not allowed' },
  { uri: 'tcp://127.0.0.1:8000#f', problem: 'a fragment is not allowed' },
  { uri: 'tcp://me@127.0.0.1:8000', problem: 'userinfo is not allowed' },
  { uri: 'tcp://:8000', problem: 'the host is missing' },
  { uri: 'tcp://localhost:8000', problem: 'is not an IP address (DNS names are not allowed)' },
  { uri: 'tcp://spire-agent.example:8000', problem: 'DNS names are not allowed' },
  { uri: 'tcp://::1:8000', problem: 'must be in brackets' },
  { uri: 'tcp://[::1:8000', problem: 'unterminated IPv6 literal' },
  { uri: 'tcp://[::1]x:8000', problem: 'unexpected text after the IPv6 literal' },
  { uri: 'tcp://[127.0.0.1]:8000', problem: 'is not an IPv6 address' },
  { uri: 'tcp://127.0.0.1', problem: 'a port is required' },
  { uri: 'tcp://127.0.0.1:', problem: 'a port is required' },
  { uri: 'tcp://[::1]', problem: 'a port is required' },
  { uri: 'tcp://127.0.0.1:80a', problem: 'is not a number' },
  { uri: 'tcp://127.0.0.1:0', problem: 'out of range' },
  { uri: 'tcp://127.0.0.1:65536', problem: 'out of range' },
];

for (const { uri, problem } of invalid) {
  test(`parseEndpointAddress rejects ${JSON.stringify(uri)}: ${problem}`, () => {
    assert.throws(
      () => parseEndpointAddress(uri),
      (err: unknown) => {
        assert.ok(err instanceof WorkloadApiError);
        assert.equal(err.code, 'workload.bad_address');
        assert.ok(err.message.startsWith('workload: '), err.message);
        assert.ok(err.message.includes(problem), `${err.message} should mention ${problem}`);
        return true;
      },
    );
  });
}

test('endpointFromEnv reads SPIFFE_ENDPOINT_SOCKET', () => {
  assert.equal(SPIFFE_ENDPOINT_SOCKET, 'SPIFFE_ENDPOINT_SOCKET');
  const got = endpointFromEnv({ SPIFFE_ENDPOINT_SOCKET: 'unix:///run/a.sock' });
  assert.equal(got.kind, 'unix');
});

for (const env of [{}, { SPIFFE_ENDPOINT_SOCKET: '' }, { SPIFFE_ENDPOINT_SOCKET: undefined }]) {
  test(`endpointFromEnv says the variable is unset (${JSON.stringify(env)})`, () => {
    assert.throws(() => endpointFromEnv(env), (err: unknown) => {
      assert.ok(err instanceof WorkloadApiError);
      assert.equal(err.code, 'workload.no_address');
      assert.match(err.message, /SPIFFE_ENDPOINT_SOCKET/);
      assert.match(err.message, /not configured/);
      return true;
    });
  });
}

test('endpointFromEnv rejects a malformed variable with workload.bad_address', () => {
  assert.throws(() => endpointFromEnv({ SPIFFE_ENDPOINT_SOCKET: 'unix://host/x' }), { code: 'workload.bad_address' });
});

test('an explicit address wins over the environment (spec §4)', () => {
  const got = resolveEndpoint('tcp://127.0.0.1:9', { SPIFFE_ENDPOINT_SOCKET: 'unix:///run/a.sock' });
  assert.equal(got.kind, 'tcp');
  assert.equal(resolveEndpoint(undefined, { SPIFFE_ENDPOINT_SOCKET: 'unix:///run/a.sock' }).kind, 'unix');
});
