import { SidecarError } from '../core/index.ts';

/**
 * Why a provider's key set could not be (re)loaded:
 * - 'auth.key_fetch_failed': the issuer or file could not be read (network, TLS, status, timeout);
 * - 'auth.bad_key_set': the JWKS is not JSON, not `{"keys":[...]}`, too large, or has no usable key;
 * - 'auth.bad_discovery': the discovery document is unusable or names another issuer.
 */
export type KeySetErrorCode = 'auth.key_fetch_failed' | 'auth.bad_key_set' | 'auth.bad_discovery';

/**
 * Raised by key-set loaders; the key-set cache keeps its last good set and
 * reports the message. Messages name the URL without its query string and
 * never carry key material.
 */
export class KeySetError extends SidecarError {
  declare readonly code: KeySetErrorCode;

  constructor(code: KeySetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
