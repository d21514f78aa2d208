import { noopAuthObserver, noopIntrospectionObserver, type AuthObserver, type IntrospectionObserver, type KeySetStatus } from '../auth/index.ts';
import type { JwtBundleSource } from '../bundle/index.ts';
import type { AuthConfig } from '../config/index.ts';
import { describeError, silentLogger, type Clock } from '../core/index.ts';
import { EndUserAuth, JwtBundleHolder } from '../lifecycle/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import { fail, ok, skipped, type CheckResult } from './check-result.ts';

/** What {@link probeTokenKeys} needs besides the `auth` section. */
export interface TokenKeysDeps {
  /** Our SVID, for an introspection endpoint that wants `tls_client_auth`. */
  readonly identity: X509SvidSource;
  /** The Workload API's JWT bundles, asked for only when a provider uses them. */
  readonly fetchJwtBundles: () => Promise<JwtBundleSource>;
  readonly clock: Clock;
  /** Longest wait for every provider's first key set. */
  readonly timeoutMs: number;
  /** Reads a file the configuration names (default: the file system). */
  readonly readFile?: (path: string) => string;
}

const observer: AuthObserver & IntrospectionObserver = { ...noopAuthObserver, ...noopIntrospectionObserver };

/**
 * Builds the token authenticator exactly as `run` does (sidecar/runtime
 * end-user-auth.ts), starts its key fetches, waits for them up to
 * `timeoutMs`, and returns each provider's key-set status. Resolves
 * `{ error }` when the authenticator cannot be built.
 */
export async function probeTokenKeys(auth: AuthConfig, d: TokenKeysDeps): Promise<readonly KeySetStatus[] | { readonly error: string }> {
  const jwtBundles = new JwtBundleHolder();
  let built: EndUserAuth;
  try {
    built = EndUserAuth.build(auth, {
      identity: d.identity,
      jwtBundles,
      observer,
      clock: d.clock,
      logger: silentLogger,
      ...(d.readFile ? { readFile: d.readFile } : {}),
    });
  } catch (err) {
    return { error: describeError(err) };
  }
  try {
    if (built.needsJwtBundles) {
      try {
        jwtBundles.set(await d.fetchJwtBundles());
      } catch (err) {
        return { error: `cannot fetch JWT bundles from the Workload API: ${describeError(err)}` };
      }
    }
    built.start();
    const readiness = await built.authenticator.ready(d.timeoutMs);
    return readiness.providers;
  } finally {
    await built.close();
  }
}

/** `token-keys`: every JWT provider of `auth` got its signing keys (JWKS, discovery, file or Workload API). */
export function checkTokenKeys(auth: AuthConfig | null | undefined, probe: readonly KeySetStatus[] | { readonly error: string } | undefined): CheckResult {
  const name = 'token-keys';
  if (auth === undefined) return skipped(name, 'no usable configuration');
  if (auth === null) return ok(name, 'no end-user authentication configured (auth)');
  if (probe === undefined) return skipped(name, 'the token providers were not probed');
  if ('error' in probe) return fail(name, probe.error, 'correct the auth section (docs/end-user-identity.md); every file it names must be readable here');
  if (probe.length === 0) return ok(name, 'no JWT providers (opaque tokens only)');
  const missing = probe.filter((s) => !s.ready);
  if (missing.length > 0) {
    return fail(
      name,
      missing.map((s) => `${s.provider}: no keys${s.lastError ? ` (${s.lastError})` : ' (no answer in time)'}`).join('; '),
      'the issuer\'s JWKS or discovery URL must be reachable from the pod (egress, DNS, caFile for a private CA); tokens of these issuers get 503 until their keys arrive',
    );
  }
  return ok(name, probe.map((s) => `${s.provider}: ${s.keyCount === 1 ? '1 key' : `${s.keyCount} keys`}`).join(', '));
}
