import type { SecureVersion } from 'node:tls';
import type { Clock } from '../core/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import type { Authorizer } from './authorizer.ts';
import type { Credentials } from './credentials.ts';
import type { X509BundleSetProvider } from './secure-context-store.ts';

/** What both sides of SPIFFE mTLS are configured with: our identity, the peers' trust, the peer check, the TLS versions. */
export interface MtlsConfig {
  /**
   * The process's credentials home: each connection presents its published
   * SVID and verifies the peer against its bundles (a server also swaps its
   * context when it announces a change). Without it, `svidSource` and
   * `bundleSource` are required and re-read for every new connection.
   */
  readonly credentials?: Credentials | undefined;
  /** Our SVID, presented to the peer; read again whenever it may have rotated. Ignored with `credentials`. */
  readonly svidSource?: X509SvidSource | undefined;
  /** Every trust domain whose peers we accept. Ignored with `credentials`. */
  readonly bundleSource?: X509BundleSetProvider | undefined;
  /** Decides on the peer's SPIFFE ID once its chain is verified. */
  readonly authorize: Authorizer;
  /** ALPN protocols offered, in preference order (e.g. ['h2', 'http/1.1']). */
  readonly alpn?: readonly string[];
  /** Time for the SPIFFE expiry checks; default the system clock. */
  readonly clock?: Clock;
  /** Lowest TLS version; default and floor 'TLSv1.2'. */
  readonly minVersion?: SecureVersion;
  /**
   * Highest TLS version; default 'TLSv1.3'. Set here: a client's
   * `maxVersion` in connect options is ignored next to a secureContext.
   */
  readonly maxVersion?: SecureVersion;
}
