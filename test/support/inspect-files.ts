/**
 * The files the `inspect` tests read, in process (test/unit/cli/inspect.test.ts)
 * and as a real process (test/integration/cli/inspect-cli.test.ts): an
 * X509-SVID chain valid at {@link INSPECT_AT} with its bundle, and broken inputs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toPem } from '../../sidecar/x509/index.ts';
import { makeIntermediate, makeLeaf, makeRoot } from './certs.ts';

/** An instant the chain is valid at. */
export const INSPECT_AT = '2030-01-01T00:00:00Z';
/** The leaf's SPIFFE ID. */
export const INSPECT_ID = 'spiffe://example.org/workload';

/**
 * Writes into `dir`: chain.pem (leaf with a DNS SAN, then the intermediate),
 * bundle.pem (the root), ca-leaf.pem (a leaf marked CA), other.pem (another
 * trust domain's root), bad.pem (a CERTIFICATE block that is not base64) and
 * empty.pem (no PEM block).
 */
export function writeInspectFiles(dir: string): void {
  const f = (name: string): string => join(dir, name);
  const root = makeRoot('example.org');
  const inter = makeIntermediate(root);
  const leaf = makeLeaf(inter, INSPECT_ID, { dnsSans: ['web.local'] });
  const caLeaf = makeLeaf(inter, INSPECT_ID, { basicConstraints: { ca: true } });
  const other = makeRoot('other.org');
  writeFileSync(f('chain.pem'), toPem(leaf.der, 'CERTIFICATE') + toPem(inter.der, 'CERTIFICATE'));
  writeFileSync(f('ca-leaf.pem'), toPem(caLeaf.der, 'CERTIFICATE') + toPem(inter.der, 'CERTIFICATE'));
  writeFileSync(f('bundle.pem'), toPem(root.der, 'CERTIFICATE'));
  writeFileSync(f('other.pem'), toPem(other.der, 'CERTIFICATE'));
  writeFileSync(f('bad.pem'), '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n');
  writeFileSync(f('empty.pem'), 'nothing here\n');
}
