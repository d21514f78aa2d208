/**
 * Fixtures for the proxy integration tests: real certificates from the dev
 * CertificateAuthority (example.org, plus other.org for wrong and federated
 * trust domains), a hand-built CA for the deliberately broken client
 * certificates, static SVID/bundle sources that a test can swap (rotation),
 * recording metrics and logger, proxies on 127.0.0.1 with ephemeral ports,
 * and small HTTP/1.1, HTTP/2 and TLS clients. Everything is real sockets.
 */
import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type ServerHttp2Stream } from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { X509Bundle, X509BundleSet } from '../../sidecar/bundle/index.ts';
import { silentLogger, type Logger } from '../../sidecar/core/index.ts';
import { CertificateAuthority, buildCertificate, generateKey } from '../../sidecar/devagent/index.ts';
import { IdentityHeaders } from '../../sidecar/headers/index.ts';
import type { BodyTimeoutReason, Direction, OverflowLimit, ProxyMetrics } from '../../sidecar/metrics/index.ts';
import { SpiffeId, TrustDomain } from '../../sidecar/spiffe/index.ts';
import { parseX509Svid, type X509Svid, type X509SvidSource } from '../../sidecar/svid/index.ts';
import { mtlsClientOptions, authorizeAny, type Authorizer } from '../../sidecar/tls/index.ts';
import { decodeCertificate, toPem, type CertificateInfo } from '../../sidecar/x509/index.ts';
import type { ProxyLimits } from '../../sidecar/core/index.ts';

const HOUR = 3_600_000;

/** Generous limits for tests; each test overrides what it exercises. */
export const LIMITS: ProxyLimits = Object.freeze({
  maxHeaderBytes: 16_384,
  maxConnections: 512,
  idleTimeoutMs: 30_000,
  requestTimeoutMs: 0,
  headersTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
});

export const TD = 'example.org';
export const OTHER_TD = 'other.org';
export const id = (s: string): SpiffeId => SpiffeId.parse(s);

/** What a proxy reads its identity from: a StaticSource or a workload X509Source. */
export type IdentitySource = X509SvidSource & { bundles(): X509BundleSet };

/** An SVID and bundle source a test can change while proxies run. */
export class StaticSource implements X509SvidSource {
  svid: X509Svid;
  set: X509BundleSet;

  constructor(svid: X509Svid, set: X509BundleSet) {
    this.svid = svid;
    this.set = set;
  }

  getX509Svid(): X509Svid {
    return this.svid;
  }

  bundles(): X509BundleSet {
    return this.set;
  }
}

/** A CA whose key the test holds (for certificates the dev CA would never issue). */
export interface HandCa {
  readonly certificate: CertificateInfo;
  readonly privateKey: import('node:crypto').KeyObject;
}

/** PEM credentials for a raw TLS client. */
export interface PemCreds {
  readonly cert: string;
  readonly key: string;
}

/** The test PKI. */
export interface Pki {
  readonly ca: CertificateAuthority;
  readonly other: CertificateAuthority;
  /** A second root of example.org, key held by the test. */
  readonly hand: HandCa;
  /** example.org only (dev CA root + hand root). */
  readonly bundles: X509BundleSet;
  /** example.org and other.org (federated). */
  readonly federated: X509BundleSet;
}

/** Builds the CAs and bundle sets once per test file. */
export async function makePki(): Promise<Pki> {
  const ca = await CertificateAuthority.create({ trustDomain: TrustDomain.parse(TD) });
  const other = await CertificateAuthority.create({ trustDomain: TrustDomain.parse(OTHER_TD) });
  const k = await generateKey('ec-p256');
  const der = buildCertificate(
    {
      subject: [{ type: 'O', value: 'test' }, { type: 'CN', value: 'example.org hand root' }],
      notBefore: new Date(Date.now() - 2 * HOUR),
      notAfter: new Date(Date.now() + 24 * HOUR),
      uriSans: [`spiffe://${TD}`],
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
    },
    k.privateKey,
  );
  const hand: HandCa = { certificate: decodeCertificate(der), privateKey: k.privateKey };
  const exampleBundle = X509Bundle.fromCertificates(TrustDomain.parse(TD), [...ca.bundle().authorities, hand.certificate]);
  return {
    ca,
    other,
    hand,
    bundles: X509BundleSet.of([exampleBundle]),
    federated: X509BundleSet.of([exampleBundle, other.bundle()]),
  };
}

/** Issues a real X509-SVID for `spiffeId` from `ca`. */
export async function svidFor(ca: CertificateAuthority, spiffeId: string, dnsNames: readonly string[] = []): Promise<X509Svid> {
  const issued = await ca.issueX509Svid({ id: id(spiffeId), ttlMs: HOUR, dnsNames });
  return parseX509Svid(issued.chainDer, issued.keyPkcs8Der);
}

/** A source serving `svid` with `set` as bundles. */
export async function sourceFor(ca: CertificateAuthority, spiffeId: string, set: X509BundleSet, dnsNames: readonly string[] = []): Promise<StaticSource> {
  return new StaticSource(await svidFor(ca, spiffeId, dnsNames), set);
}

/** PEM of an SVID, for raw TLS clients, curl and openssl. */
export function pemOf(svid: X509Svid): PemCreds {
  return { cert: svid.certChainPem(), key: svid.privateKeyPem() };
}

/** PEM of every root in a bundle set (for `ca` / `--cacert`). */
export function rootsPem(set: X509BundleSet): string {
  let out = '';
  for (const b of set) out += b.toPem();
  return out;
}

type BadKind = 'expired' | 'caAsLeaf' | 'selfSigned';

/**
 * Client certificates every SPIFFE verifier must refuse, all claiming an
 * example.org ID: an expired leaf from a trusted root, a CA certificate
 * used as a leaf, and a self-signed leaf with the right URI SAN.
 */
export async function badCreds(pki: Pki, kind: BadKind): Promise<PemCreds> {
  const k = await generateKey('ec-p256');
  const uri = `spiffe://${TD}/client`;
  const leaf = {
    subject: [{ type: 'O', value: 'SPIRE' }],
    uriSans: [uri],
    basicConstraints: { ca: false },
    keyUsage: { usages: ['digitalSignature', 'keyEncipherment', 'keyAgreement'] as const },
    extKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
  };
  let der: Buffer;
  switch (kind) {
    case 'expired':
      der = buildCertificate({ ...leaf, keyUsage: { usages: [...leaf.keyUsage.usages] }, notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) }, k.publicKey, pki.hand);
      break;
    case 'caAsLeaf':
      der = buildCertificate(
        {
          subject: [{ type: 'CN', value: 'intermediate used as a leaf' }],
          uriSans: [uri],
          basicConstraints: { ca: true },
          keyUsage: { usages: ['keyCertSign', 'cRLSign', 'digitalSignature'] },
          notBefore: new Date(Date.now() - HOUR),
          notAfter: new Date(Date.now() + HOUR),
        },
        k.publicKey,
        pki.hand,
      );
      break;
    case 'selfSigned':
      der = buildCertificate({ ...leaf, keyUsage: { usages: [...leaf.keyUsage.usages] }, notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + HOUR) }, k.privateKey);
      break;
  }
  return { cert: toPem(der, 'CERTIFICATE'), key: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Metrics that record every call, for assertions. */
export class RecordingMetrics implements ProxyMetrics {
  readonly requests: { direction: Direction; method: string; code: number; peerId: string; seconds: number }[] = [];
  readonly handshakeErrors: { direction: Direction; reason: string }[] = [];
  readonly decisions: { decision: 'allow' | 'deny'; peerId: string }[] = [];
  readonly open = { inbound: 0, outbound: 0 };
  readonly opened = { inbound: 0, outbound: 0 };
  readonly overflows: { direction: Direction; limit: OverflowLimit }[] = [];
  readonly bodyTimeouts: { direction: Direction; reason: BodyTimeoutReason }[] = [];
  readonly resetsBeforeUpstream = { inbound: 0, outbound: 0 };

  requestDone(direction: Direction, method: string, code: number, peerId: string, seconds: number): void {
    this.requests.push({ direction, method, code, peerId, seconds });
  }
  handshakeError(direction: Direction, reason: string): void {
    this.handshakeErrors.push({ direction, reason });
  }
  authzDecision(decision: 'allow' | 'deny', peerId: string): void {
    this.decisions.push({ decision, peerId });
  }
  connectionOpened(direction: Direction): void {
    this.open[direction]++;
    this.opened[direction]++;
  }
  connectionClosed(direction: Direction): void {
    this.open[direction]--;
  }
  upstreamOverflow(direction: Direction, limit: OverflowLimit): void {
    this.overflows.push({ direction, limit });
  }
  requestBodyTimeout(direction: Direction, reason: BodyTimeoutReason): void {
    this.bodyTimeouts.push({ direction, reason });
  }
  streamResetBeforeUpstream(direction: Direction): void {
    this.resetsBeforeUpstream[direction]++;
  }
}

/** A logger that keeps every line. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[];
  readonly #bindings: Record<string, unknown>;

  constructor(lines: RecordingLogger['lines'] = [], bindings: Record<string, unknown> = {}) {
    this.lines = lines;
    this.#bindings = bindings;
  }
  debug(obj: Record<string, unknown>, msg?: string): void {
    this.lines.push({ level: 'debug', obj: { ...this.#bindings, ...obj }, msg });
  }
  info(obj: Record<string, unknown>, msg?: string): void {
    this.lines.push({ level: 'info', obj: { ...this.#bindings, ...obj }, msg });
  }
  warn(obj: Record<string, unknown>, msg?: string): void {
    this.lines.push({ level: 'warn', obj: { ...this.#bindings, ...obj }, msg });
  }
  error(obj: Record<string, unknown>, msg?: string): void {
    this.lines.push({ level: 'error', obj: { ...this.#bindings, ...obj }, msg });
  }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.lines, { ...this.#bindings, ...bindings });
  }
}

export const headers = new IdentityHeaders();
export { silentLogger };

/** Closes registered servers, clients and proxies; call `cleanup.run()` in `after`. */
export class Cleanup {
  readonly #fns: (() => unknown)[] = [];
  add(fn: () => unknown): void {
    this.#fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.#fns.reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
    this.#fns.length = 0;
  }
}

/** What a test app saw, request by request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  readonly body: string;
}

/**
 * An HTTP/1.1 app on 127.0.0.1 that records requests and answers with
 * `handler` (default: 200 with a JSON echo of method, url and headers).
 */
export async function startH1App(
  cleanup: Cleanup,
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ port: number; seen: SeenRequest[]; server: http.Server }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    if (handler && req.headers['x-stream-test'] !== undefined) {
      handler(req, res, '');
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, httpVersion: req.httpVersion, body });
      if (handler) return handler(req, res, body);
      const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, httpVersion: req.httpVersion, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-app': 'h1' });
      res.end(out);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, seen, server };
}

/** An h2c app (HTTP/2 without TLS) that echoes like {@link startH1App}. */
export async function startH2cApp(cleanup: Cleanup, handler?: (stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<{ port: number; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, h, _flags, raw: string[]) => {
    stream.on('error', () => {});
    if (handler) return handler(stream, h);
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => {
      const plain: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(h)) plain[k] = v;
      seen.push({ method: String(h[':method']), url: String(h[':path']), headers: plain as IncomingHttpHeaders, rawHeaders: raw, httpVersion: '2.0', body });
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-app': 'h2c' });
      stream.end(JSON.stringify({ method: h[':method'], url: h[':path'], headers: plain, httpVersion: '2.0', body }));
    });
  });
  return { port: await listenH2c(server, cleanup), seen };
}

/**
 * Listens on a loopback port; cleanup destroys the server's open sessions
 * (close() alone waits for them) and closes it. Resolves with the port.
 */
export async function listenH2c(server: http2.Http2Server, cleanup: Cleanup): Promise<number> {
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/** A port with nothing listening (bound then released). */
export async function deadPort(): Promise<number> {
  // Below the kernel's ephemeral range (ip_local_port_range starts at 32768):
  // a port picked by listen(0) and closed again can be handed to another
  // test's listener moments later, which turns "refused" into "reset".
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const s = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  throw new Error('deadPort: no free port found in 20000-29999');
}

/** A response as a test sees it. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request over plain TCP (the app's view of the outbound listener). */
export function h1Request(
  port: number,
  opts: { path?: string; method?: string; headers?: Record<string, string | string[]> | string[]; body?: string; agent?: http.Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/',
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: opts.agent ?? false,
        setHost: !(opts.headers && (Array.isArray(opts.headers) ? opts.headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host') : Object.keys(opts.headers).some((h) => h.toLowerCase() === 'host'))),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** One HTTP/2 request on `session`. */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<Reply & { trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const st = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let resHeaders: IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let text = '';
    st.setEncoding('utf8');
    st.on('response', (h) => {
      status = Number(h[':status']);
      resHeaders = h as IncomingHttpHeaders;
    });
    st.on('trailers', (t) => (trailers = t));
    st.on('data', (d: string) => (text += d));
    st.on('end', () => resolve({ status, headers: resHeaders, body: text, trailers }));
    st.on('error', reject);
    if (body !== undefined) st.end(body);
  });
}

/** TLS client options presenting `source`'s SVID and verifying the server with `authorize` (default any). */
export function clientTls(source: StaticSource, authorize: Authorizer = authorizeAny(), alpn?: string[]): tls.ConnectionOptions {
  const o = mtlsClientOptions({ svidSource: source, bundleSource: source, authorize, ...(alpn ? { alpn } : {}) });
  return { ...o };
}

/** An https.Agent-free HTTP/1.1 request over mTLS straight to an inbound listener. */
export function mtlsH1Request(
  port: number,
  source: StaticSource,
  opts: { path?: string; method?: string; headers?: Record<string, string> | string[]; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ ...clientTls(source, authorizeAny(), ['http/1.1']), host: '127.0.0.1', port });
    socket.on('error', reject);
    const req = http.request(
      {
        createConnection: () => socket,
        path: opts.path ?? '/',
        method: opts.method ?? 'GET',
        headers: opts.headers ?? { host: 'app.local' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          socket.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** An HTTP/2 session over mTLS (ALPN h2) to an inbound listener. */
export async function mtlsH2Session(port: number, source: StaticSource): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(`https://127.0.0.1:${port}`, { ...clientTls(source, authorizeAny(), ['h2']) });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

/** Waits until `cond()` holds, polling; fails after `ms`. For eventually-consistent counters only. */
export async function eventually(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Sends one raw HTTP/1.1 request on a new connection to `port` and reads
 * until a chunked body's last chunk: what arrived and how many ms after the
 * request the response head was complete (-1 if never). For the cases where
 * the app sends its head at once and its body later.
 */
export async function timeToHead(port: number, request: string): Promise<{ got: string; headAfterMs: number }> {
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => {});
  await once(c, 'connect');
  c.setEncoding('latin1');
  const started = Date.now();
  let headAfterMs = -1;
  let got = '';
  const done = new Promise<void>((resolve) => {
    c.on('data', (d: string) => {
      got += d;
      if (headAfterMs === -1 && got.includes('\r\n\r\n')) headAfterMs = Date.now() - started;
      if (got.endsWith('0\r\n\r\n')) resolve();
    });
    c.on('close', () => resolve());
  });
  c.write(request, 'latin1');
  const timer = setTimeout(() => c.destroy(), 5000);
  await done;
  clearTimeout(timer);
  c.destroy();
  return { got, headAfterMs };
}
