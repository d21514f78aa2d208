import { decodeCertificate, type CertificateInfo } from './certificate.ts';

/**
 * A bounded memo of {@link decodeCertificate}, keyed by the exact DER bytes
 * (not a hash, so two different certificates can never share an entry).
 *
 * Why: peer verification runs on every TLS handshake, and peers present the
 * same intermediates (and, until rotation, the same leaf) again and again;
 * ASN.1 decoding is the most expensive step of a check. CertificateInfo is
 * frozen, so sharing an entry is safe. Failures are not cached. Least
 * recently used entries are dropped beyond `maxEntries`.
 */
export class CertificateCache {
  readonly #max: number;
  readonly #entries = new Map<string, CertificateInfo>();

  constructor(maxEntries = 256) {
    this.#max = Math.max(1, Math.floor(maxEntries));
  }

  /** Number of certificates held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Same as decodeCertificate(der, index), answered from the memo when the bytes were seen before. */
  decode(der: Uint8Array, index = 0): CertificateInfo {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const info = decodeCertificate(der, index);
    this.#entries.set(key, info);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return info;
  }
}
