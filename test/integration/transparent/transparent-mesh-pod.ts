/**
 * One pod of transparent-outbound.test.ts, run inside the pod's network
 * namespace as the proxy uid (its own connections skip the redirect).
 *
 * `client <material.json>`: the outbound proxy on [::]:15001 in transparent
 * mode with the real original destination (sidecar/transparent), so every
 * connection the app makes is classified.
 *
 * `server <material.json>`: apps on 127.0.0.1 (an echo on 5432 and 7000, a
 * server-first greeter on 3306) and an mTLS listener on [::]:15006 whose
 * opaque streams (ALPN spiffe-sidecar-opaque/1) go to the original port
 * after a connection check that allows only the client's SPIFFE ID.
 *
 * material.json: { trustDomain, bundle (base64 DER), chain (base64 DER), key (base64 PKCS#8), allow }.
 * Prints one line `ready` once listening, then serves until killed.
 */
import { readFileSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import { X509Bundle, X509BundleSet } from '../../../sidecar/bundle/index.ts';
import type { ClassificationObserver } from '../../../sidecar/outbound/index.ts';
import { parsePolicy } from '../../../sidecar/policy/index.ts';
import { TrustDomain, matchMemberOf } from '../../../sidecar/spiffe/index.ts';
import { parseX509Svid } from '../../../sidecar/svid/index.ts';
import { originalDestination } from '../../../sidecar/transparent/index.ts';
import { StaticSource } from '../../support/proxy-fixtures.ts';
import { opaqueListener } from '../../support/opaque-inbound-fixture.ts';
import { outboundFor } from '../../support/outbound-fixture.ts';

interface Material {
  readonly trustDomain: string;
  readonly bundle: string;
  readonly chain: string;
  readonly key: string;
  readonly allow: string;
}

const [role, file] = process.argv.slice(2);
const m = JSON.parse(readFileSync(file!, 'utf8')) as Material;
const td = TrustDomain.parse(m.trustDomain);
const source = new StaticSource(
  parseX509Svid(Buffer.from(m.chain, 'base64'), Buffer.from(m.key, 'base64')),
  X509BundleSet.of([X509Bundle.fromDer(td, Buffer.from(m.bundle, 'base64'))]),
);
/** Each line the proxies log, to stderr for the test's failure output. */
const logger = {
  debug() {},
  info: (o: object, msg?: string) => process.stderr.write(`${JSON.stringify({ ...o, msg })}\n`),
  warn: (o: object, msg?: string) => process.stderr.write(`${JSON.stringify({ ...o, msg, level: 'warn' })}\n`),
  error: (o: object, msg?: string) => process.stderr.write(`${JSON.stringify({ ...o, msg, level: 'error' })}\n`),
  child() {
    return logger;
  },
};

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, res);
  });
}

if (role === 'client') {
  const observer: ClassificationObserver = {
    classified: (protocol, zone, detection) => process.stderr.write(`${JSON.stringify({ msg: 'classified', protocol, zone, detection })}\n`),
    egressDecided() {},
  };
  const outbound = outboundFor(source, {
    listen: { host: '::', port: 15001 },
    logger,
    transparent: { server: matchMemberOf(td), originalDestination, detectTimeoutMs: 200, observer },
  });
  await outbound.start();
} else {
  const echo = (s: Socket): void => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
  };
  await listen(net.createServer(echo), 5432, '127.0.0.1');
  await listen(net.createServer(echo), 7000, '127.0.0.1');
  await listen(
    net.createServer((s) => {
      s.on('error', () => {});
      s.write('220 greeter\r\n');
    }),
    3306,
    '127.0.0.1',
  );
  const policy = parsePolicy({ version: 1, rules: [{ name: 'client', from: [{ id: m.allow }] }] }, 'test-policy');
  const { server } = opaqueListener({
    source,
    policy,
    originalPort: (socket) => originalDestination(socket)?.port,
    reservedPorts: [15001, 15006, 15020],
    logger,
  });
  await listen(server, 15006, '::');
}
process.stdout.write('ready\n');
