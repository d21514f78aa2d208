import { readFile, stat } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { InjectorError } from './injector-error.ts';
import { describeError } from '../core/index.ts';

/** A certificate chain and key read from disk and known to belong together. */
export interface CertificatePair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * Reads a PEM certificate chain and its key and checks that Node's TLS
 * accepts them together (a key that does not match the certificate is
 * refused here, not at the first handshake). Throws
 * 'injector.certificate_invalid'.
 */
export async function loadCertificatePair(certFile: string, keyFile: string): Promise<CertificatePair> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  } catch (err) {
    throw new InjectorError('injector.certificate_invalid', [`cannot read ${certFile} / ${keyFile}: ${describeError(err)}`], { cause: err });
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new InjectorError('injector.certificate_invalid', [`${certFile} and ${keyFile} are not a usable certificate and key: ${describeError(err)}`], { cause: err });
  }
  return { cert, key };
}

/**
 * A cheap fingerprint of both files: inode, size and mtime. stat() follows
 * symlinks, so the atomic `..data` symlink swap Kubernetes uses to update
 * mounted Secrets changes it too (fs.watch on the file would miss that).
 */
export async function certificateFilesVersion(certFile: string, keyFile: string): Promise<string> {
  const parts = await Promise.all(
    [certFile, keyFile].map(async (f) => {
      try {
        const st = await stat(f, { bigint: true });
        return `${st.ino}:${st.size}:${st.mtimeNs}`;
      } catch {
        return 'missing';
      }
    }),
  );
  return parts.join('|');
}
