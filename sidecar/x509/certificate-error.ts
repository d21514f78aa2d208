import { SidecarError } from '../core/index.ts';

/** Reason a certificate or PEM input cannot be decoded (one code: callers only need to know it is not usable). */
export type CertificateErrorCode = 'certificate.malformed';

/**
 * Raised when bytes that should hold certificates do not. The message names
 * the index of the offending certificate (or PEM block) so an operator can
 * find it in a chain or bundle.
 */
export class CertificateError extends SidecarError {
  declare readonly code: CertificateErrorCode;
  /** Zero-based position of the bad certificate or PEM block in its input, when known. */
  readonly index: number | undefined;

  constructor(code: CertificateErrorCode, message: string, options?: { cause?: unknown; index?: number }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.index = options?.index;
  }
}
