/**
 * SVID rotation under load, with the real dev agent and workload
 * X509Sources: both sidecars get new SVIDs in the middle of a steady,
 * bounded request loop. No request may fail, requests after the rotation
 * must carry the caller's new certificate, and a new connection to the
 * inbound listener must see the server's new certificate.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { DevAgent } from '../../../sidecar/devagent/index.ts';
import { X509Source } from '../../../sidecar/workload/index.ts';
import { Cleanup, TD, eventually, h1Request, makePki, rootsPem, startH1App, type Pki } from '../../support/proxy-fixtures.ts';
import { BACKEND_ID, FRONTEND_ID, startMesh } from './mesh.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let agent: DevAgent;
let front: X509Source;
let back: X509Source;

before(async () => {
  pki = await makePki();
  const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  const frontSock = join(dir, 'front.sock');
  const backSock = join(dir, 'back.sock');
  agent = await DevAgent.start({
    trustDomains: [{ name: TD }],
    workloads: [
      { socketPath: frontSock, ids: [FRONTEND_ID] },
      { socketPath: backSock, ids: [BACKEND_ID] },
    ],
    svidTtlMs: 3_600_000,
  });
  cleanup.add(() => agent.stop());
  front = await X509Source.create({ address: `unix://${frontSock}`, timeoutMs: 10_000 });
  cleanup.add(() => front.close());
  back = await X509Source.create({ address: `unix://${backSock}`, timeoutMs: 10_000 });
  cleanup.add(() => back.close());
});

const leafHash = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

for (const protocol of ['http1', 'h2'] as const) test(`${protocol} link: rotating both SVIDs mid-loop: zero failed requests, new connections use the new certificates`, async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, frontend: front, backend: back, protocol });
  const client = new http.Agent({ keepAlive: true, maxSockets: 4 });
  cleanup.add(() => client.destroy());

  const oldFront = front.getX509Svid();
  const oldBack = back.getX509Svid();
  const TOTAL = 400;
  const ROTATE_AT = 150;
  const results: { status: number; hash: string }[] = [];
  let rotation: Promise<void> | undefined;
  let next = 0;

  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      if (i === ROTATE_AT) {
        rotation = agent.rotateNow().then(() =>
          eventually(() => front.getX509Svid() !== oldFront && back.getX509Svid() !== oldBack, 10_000, 'sources updated'),
        );
      }
      // Past the middle, wait for the rotation to land so the tail of the loop runs on new SVIDs.
      if (i === TOTAL - 50) await rotation;
      const r = await h1Request(m.outboundPort, { headers: { host: 'backend' }, agent: client });
      const xfcc = r.status === 200 ? String((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-forwarded-client-cert']) : '';
      results.push({ status: r.status, hash: /Hash=([0-9a-f]+)/.exec(xfcc)?.[1] ?? '' });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await rotation;

  assert.equal(results.length, TOTAL);
  assert.deepEqual(
    results.filter((r) => r.status !== 200),
    [],
    'no request failed',
  );
  const newFront = front.getX509Svid();
  const newBack = back.getX509Svid();
  assert.notEqual(newFront, oldFront);
  assert.equal(results[0]!.hash, leafHash(oldFront.certificates[0]!.der));
  assert.equal(results.at(-1)!.hash, leafHash(newFront.certificates[0]!.der), 'the caller presents its new SVID');

  // A fresh connection to the inbound listener sees the server's new certificate.
  const serial = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port: m.inboundPort,
      ca: rootsPem(front.bundles()),
      cert: newFront.certChainPem(),
      key: newFront.privateKeyPem(),
      checkServerIdentity: () => undefined,
    });
    s.on('secureConnect', () => {
      resolve(s.getPeerCertificate().serialNumber.toUpperCase());
      s.destroy();
    });
    s.on('error', reject);
  });
  assert.equal(serial, newBack.certificates[0]!.serialNumber);
  assert.notEqual(serial, oldBack.certificates[0]!.serialNumber);
});
