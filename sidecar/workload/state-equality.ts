import type { JwtBundleSet, X509BundleSet } from '../bundle/index.ts';
import type { X509Svid } from '../svid/index.ts';

/**
 * True when both lists hold the same SVIDs (certificate DER and hint) in the
 * same order. A rotated SVID always has a new certificate, so DER equality
 * is exactly "nothing changed".
 */
export function sameSvids(a: readonly X509Svid[], b: readonly X509Svid[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((s, i) => {
    const o = b[i]!;
    if (s.hint !== o.hint || s.certificates.length !== o.certificates.length) return false;
    return s.certificates.every((c, j) => c.der.equals(o.certificates[j]!.der));
  });
}

/** True when both sets hold the same trust domains with the same certificates. */
export function sameBundleSet(a: X509BundleSet, b: X509BundleSet): boolean {
  if (a.size !== b.size) return false;
  for (const bundle of a) {
    const other = b.get(bundle.trustDomain);
    if (!other || !bundle.equals(other)) return false;
  }
  return true;
}

/** True when both sets hold the same trust domains with the same JWT keys. */
export function sameJwtBundleSet(a: JwtBundleSet, b: JwtBundleSet): boolean {
  const ta = a.trustDomains();
  const tb = b.trustDomains();
  if (ta.length !== tb.length) return false;
  for (const td of ta) {
    const x = a.get(td);
    const y = b.get(td);
    if (!x || !y || x.toJwks() !== y.toJwks()) return false;
  }
  return true;
}
