import { createHash } from 'node:crypto';
import type { X509BundleSet } from '../bundle/index.ts';
import type { X509Svid } from '../svid/index.ts';

/** What /debug/svid shows: public facts about our SVID, never the key. */
export interface SvidDebug {
  readonly spiffeId: string;
  readonly hint: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** The leaf's serial number, uppercase hex. */
  readonly serial: string;
  /** Leaf plus intermediates. */
  readonly chainLength: number;
  /** Hex SHA-256 of the leaf DER: the `Hash` peers put in XFCC for us. */
  readonly leafSha256: string;
  /** Trust domains we hold X.509 bundles for (our own and federated). */
  readonly bundleTrustDomains: readonly string[];
}

/** Describes `svid` and `bundles` for /debug/svid. */
export function svidDebug(svid: X509Svid, bundles: X509BundleSet): SvidDebug {
  const leaf = svid.certificates[0]!;
  return {
    spiffeId: svid.id.toString(),
    hint: svid.hint,
    notBefore: svid.notBefore.toISOString(),
    notAfter: svid.notAfter.toISOString(),
    serial: leaf.serialNumber,
    chainLength: svid.certificates.length,
    leafSha256: createHash('sha256').update(leaf.der).digest('hex'),
    bundleTrustDomains: bundles.trustDomains().map((td) => td.name),
  };
}
