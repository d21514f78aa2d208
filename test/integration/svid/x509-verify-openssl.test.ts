/**
 * X509-SVIDs made by another toolchain (openssl) verify like ours and are
 * held to the same rules. Starts openssl, so it lives with the integration
 * tests; the verifier's rule-by-rule table is test/unit/svid/x509-verify.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Bundle, X509BundleSet } from '../../../sidecar/bundle/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { PeerVerificationError, parseX509SvidPem, parsePemCertificates, verifyX509SvidChain } from '../../../sidecar/svid/index.ts';
import { HOUR } from '../../support/certs.ts';
import { requireTools } from '../../support/tools.ts';

function rejectsExpired(err: unknown): boolean {
  assert.ok(err instanceof PeerVerificationError, `expected PeerVerificationError, got ${String(err)}`);
  assert.equal(err.code, 'x509svid.expired', err.message);
  return true;
}

/** Runs openssl to make a CA and a leaf SVID in `dir`; returns the PEM paths. */
function opensslSvid(dir: string, newkey: string[], tag: string): { ca: string; leaf: string; key: string } {
  const p = (f: string) => join(dir, `${tag}-${f}`);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  run([
    'req', '-x509', ...newkey, '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2',
    '-subj', `/C=US/O=Foreign ${tag}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'subjectAltName=URI:spiffe://foreign.test',
  ]);
  run(['req', '-new', ...newkey, '-nodes', '-keyout', p('leaf.key'), '-out', p('leaf.csr'), '-subj', '/O=Foreign workload']);
  writeFileSync(
    p('leaf.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment,keyAgreement',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=URI:spiffe://foreign.test/svc,DNS:svc.foreign.test',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
    ].join('\n'),
  );
  run([
    'x509', '-req', '-in', p('leaf.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-set_serial', '0x1234567890abcdef',
    '-days', '1', '-extfile', p('leaf.ext'), '-out', p('leaf.pem'),
  ]);
  return { ca: p('ca.pem'), leaf: p('leaf.pem'), key: p('leaf.key') };
}

test('openssl-made SVIDs (EC P-384 and RSA-4096) parse and verify', (t) => {
  if (!requireTools(t, ['openssl'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'x509-verify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const td = TrustDomain.parse('foreign.test');
  for (const [tag, newkey] of [
    ['p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']],
    ['rsa4096', ['-newkey', 'rsa:4096']],
  ] as const) {
    const files = opensslSvid(dir, [...newkey], tag);
    const svid = parseX509SvidPem(readFileSync(files.leaf, 'utf8'), readFileSync(files.key, 'utf8'));
    assert.equal(svid.id.toString(), 'spiffe://foreign.test/svc', tag);
    const set = X509BundleSet.of([X509Bundle.fromPem(td, readFileSync(files.ca, 'utf8'))]);
    const result = verifyX509SvidChain(parsePemCertificates(readFileSync(files.leaf, 'utf8')), set);
    assert.equal(result.id.toString(), 'spiffe://foreign.test/svc', tag);
    assert.equal(result.verifiedChain.length, 2);
    // And the foreign chain is still held to the same rules: a day later it has expired.
    assert.throws(() => verifyX509SvidChain([svid.certificates[0]!.der], set, { at: Date.now() + 3 * 24 * HOUR }), rejectsExpired);
  }
});
