import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppSelector, authorityPort } from '../../../sidecar/inbound/index.ts';

const ports: [authority: string, port: number | undefined, why: string][] = [
  ['backend:9090', 9090, 'name and port'],
  ['backend', undefined, 'no port: the default app'],
  ['10.0.0.5:8080', 8080, 'IPv4 and port'],
  ['[fd00::5]:8443', 8443, 'bracketed IPv6 and port'],
  ['[fd00::5]', undefined, 'bracketed IPv6 without port'],
  ['fd00::5', undefined, 'unbracketed IPv6 has no port'],
  ['backend:', undefined, 'empty port'],
  ['backend:0', undefined, 'port 0'],
  ['backend:65536', undefined, 'port above 65535'],
  ['backend:90a', undefined, 'not digits'],
  ['backend:123456', undefined, 'more than five digits'],
  ['', undefined, 'no authority'],
];

for (const [authority, port, why] of ports) {
  test(`authorityPort: ${JSON.stringify(authority)} → ${port} (${why})`, () => assert.equal(authorityPort(authority), port));
}

const apps = new AppSelector('default', new Map([[9090, 'grpc']]));
test('AppSelector: a listed port picks its app', () => assert.equal(apps.pick('backend:9090'), 'grpc'));
test('AppSelector: another port picks the default app', () => assert.equal(apps.pick('backend:8080'), 'default'));
test('AppSelector: no port picks the default app', () => assert.equal(apps.pick('backend'), 'default'));
test('AppSelector: a malformed authority picks the default app', () => assert.equal(apps.pick('backend:x'), 'default'));
test('AppSelector: all() lists the default app first', () => assert.deepEqual(apps.all(), ['default', 'grpc']));
