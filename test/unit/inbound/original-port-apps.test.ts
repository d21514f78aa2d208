/**
 * OriginalPortApps: one row per rule of its doc comment (which app a
 * redirected connection's original port selects). Pure decisions: the
 * socket is only asked for its ALPN protocol, and upstreams are markers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { silentLogger, systemClock, type Address } from '../../../sidecar/core/index.ts';
import { TunnelSet, type UpstreamPool } from '../../../sidecar/forward/index.ts';
import { OriginalPortApps, type PortRoute } from '../../../sidecar/inbound/original-port-apps.ts';
import type { ProxyMetrics } from '../../../sidecar/metrics/index.ts';

interface Marker {
  readonly name: string;
}
const marker = (name: string): UpstreamPool => ({ name }) as Marker as unknown as UpstreamPool;
const nameOf = (r: PortRoute): string => {
  switch (r.kind) {
    case 'host':
      return 'host';
    case 'http':
      return `http ${(r.upstream as unknown as Marker).name}`;
    case 'opaque':
      return `opaque ${r.end.dialer.target}`;
    case 'refuse':
      return `refuse ${r.reason}`;
  }
};
/** Routing never runs the connection check; acceptTunnel does. */
const notCalled = (): never => {
  throw new Error('authorizeCaller is not part of routing');
};
const socket = (alpn: string | false): TLSSocket => ({ alpnProtocol: alpn }) as unknown as TLSSocket;

function apps(port: number | undefined | Error, o: { appProtocol?: 'http1' | 'h2c'; maxPorts?: number } = {}): { apps: OriginalPortApps; made: string[] } {
  const made: string[] = [];
  const a = new OriginalPortApps({
    originalPort: () => {
      if (port instanceof Error) throw port;
      return port;
    },
    app: { host: '127.0.0.1', port: 8080 },
    appProtocol: o.appProtocol ?? 'http1',
    appPorts: new Map([[9090, marker('grpc-configured')]]),
    defaultUpstream: marker('default'),
    opaquePorts: [5432],
    reservedPorts: [15001, 15006, 15020],
    upstreamFor: (address: Address, protocol) => {
      const name = `${address.host}:${address.port}/${protocol}`;
      made.push(name);
      return marker(name);
    },
    authorizeCaller: notCalled,
    connectTimeoutMs: 1000,
    tunnels: new TunnelSet(systemClock),
    metrics: {} as ProxyMetrics,
    logger: silentLogger,
    ...(o.maxPorts !== undefined ? { maxPorts: o.maxPorts } : {}),
  });
  return { apps: a, made };
}

const rows: { name: string; port: number | undefined | Error; alpn?: string | false; appProtocol?: 'http1' | 'h2c'; want: string }[] = [
  { name: 'not redirected: choose by Host', port: undefined, want: 'host' },
  { name: 'lookup failure: choose by Host (never a wider set of ports)', port: new Error('boom'), want: 'host' },
  { name: "the default app's port keeps the default app", port: 8080, alpn: 'h2', want: 'http default' },
  { name: 'a configured appPorts entry keeps its upstream', port: 9090, want: 'http grpc-configured' },
  { name: 'another port: HTTP/1.1 on the app host', port: 8081, alpn: 'http/1.1', want: 'http 127.0.0.1:8081/http1' },
  { name: 'another port, caller negotiated h2 (gRPC): h2c', port: 50051, alpn: 'h2', want: 'http 127.0.0.1:50051/h2c' },
  { name: 'another port, app protocol h2c: h2c', port: 8081, alpn: 'http/1.1', appProtocol: 'h2c', want: 'http 127.0.0.1:8081/h2c' },
  { name: 'an opaque port: raw TCP to the app host', port: 5432, want: 'opaque 127.0.0.1:5432' },
  { name: "the sidecar's outbound port is refused", port: 15001, want: 'refuse sidecar_port' },
  { name: "the sidecar's inbound port is refused", port: 15006, want: 'refuse sidecar_port' },
];
for (const row of rows) {
  test(row.name, () => {
    const { apps: a } = apps(row.port, row.appProtocol !== undefined ? { appProtocol: row.appProtocol } : {});
    assert.equal(nameOf(a.route(socket(row.alpn ?? 'http/1.1'))), row.want);
  });
}

test('a port is set up once and reused', () => {
  const { apps: a, made } = apps(8081);
  const first = a.route(socket('http/1.1'));
  assert.equal(a.route(socket('http/1.1')), first);
  assert.deepEqual(made, ['127.0.0.1:8081/http1']);
  assert.equal(a.upstreams().length, 1);
});

test('beyond maxPorts distinct ports, further ports are refused (known ones still served)', () => {
  let port = 0;
  const a = new OriginalPortApps({
    originalPort: () => port,
    app: { host: '127.0.0.1', port: 8080 },
    appProtocol: 'http1',
    appPorts: new Map(),
    defaultUpstream: marker('default'),
    opaquePorts: [],
    reservedPorts: [],
    upstreamFor: (address) => marker(String(address.port)),
    authorizeCaller: notCalled,
    connectTimeoutMs: 1000,
    tunnels: new TunnelSet(systemClock),
    metrics: {} as ProxyMetrics,
    logger: silentLogger,
    maxPorts: 2,
  });
  const names: string[] = [];
  for (const p of [8101, 8102, 8103, 8101]) {
    port = p;
    names.push(nameOf(a.route(socket('http/1.1'))));
  }
  assert.deepEqual(names, ['http 8101', 'http 8102', 'refuse too_many_ports', 'http 8101']);
});
