/**
 * decodeCertificate on a certificate made by another implementation: a CA
 * that `openssl req` creates with name constraints and a non-ASCII subject
 * (a child process, hence an integration test). The builder-made cases are
 * in test/unit/x509/certificate.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCertificate } from '../../../sidecar/devagent/index.ts';
import { decodeCertificate, parsePemCertificates } from '../../../sidecar/x509/index.ts';
import { caSpec, keyPair } from '../../support/certs.ts';
import { requireTools } from '../../support/tools.ts';

test('decodeCertificate reads an openssl-made CA with name constraints', (t) => {
  if (!requireTools(t, ['openssl'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'x509-cert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes',
      '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-subj', '/O=Foreign/CN=r\u00e9seau', '-days', '1',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:2',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'nameConstraints=critical,permitted;URI:example.org,permitted;DNS:.example.org,excluded;IP:10.0.0.0/255.0.0.0,excluded;email:x@example.org',
      '-addext', 'subjectAltName=URI:spiffe://example.org,IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  const [der] = parsePemCertificates(readFileSync(join(dir, 'ca.pem'), 'utf8'));
  const c = decodeCertificate(der!);
  assert.equal(c.isCa, true);
  assert.equal(c.pathLen, 2);
  assert.equal(c.hasIpSans, true);
  assert.deepEqual(c.uriSans, ['spiffe://example.org']);
  assert.deepEqual(c.nameConstraints?.permitted, [
    { type: 'uri', value: 'example.org' },
    { type: 'dns', value: '.example.org' },
  ]);
  assert.deepEqual(c.nameConstraints?.excluded.map((s) => s.type), ['ip', 'email']);
  assert.deepEqual(c.unhandledCriticalExtensions, []);
  // Re-encoding keeps the issuer bytes exact, so a builder-made child chains to it.
  const child = buildCertificate(caSpec('example.org'), keyPair().publicKey, { certificate: c, privateKey: createPrivateKey(readFileSync(join(dir, 'ca.key'), 'utf8')) });
  assert.ok(decodeCertificate(child).issuerDer.equals(c.subjectDer));
  assert.ok(decodeCertificate(child).x509.verify(c.publicKey));
});
