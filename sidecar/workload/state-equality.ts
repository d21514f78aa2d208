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
