import { AuthOptionsError, type AuthOptionsProblem } from './auth-options-error.ts';
import { checkJwtProvider, type JwtProviderOptions, type ResolvedJwtProvider } from './jwt-provider-options.ts';
import { DEFAULT_TOKEN_LOCATIONS, resolveTokenLocations, tokenLocationProblems, type ResolvedLocation, type TokenLocation } from './token-location.ts';

/** Options of a {@link TokenAuthenticator}: the JWT providers and limits shared by all of them. */
export interface TokenAuthenticatorOptions {
  /** The JWT issuers accepted; names and issuers must be unique, at most one `workloadApi` provider. */
  readonly providers: readonly JwtProviderOptions[];
  /** Longest token accepted, checked before any decoding (default 8 192, 256 .. 65 536). Longer is `token_too_large`. */
  readonly maxTokenBytes?: number;
  /** Verified tokens remembered (default 10 000, 0 disables, up to 1 000 000). */
  readonly tokenCacheEntries?: number;
  /** Where opaque tokens for the introspection verifier may be carried (default `Authorization: Bearer`). */
  readonly opaqueTokenLocations?: readonly TokenLocation[];
}

/** Validated authenticator options with defaults filled in. */
export interface ResolvedAuthenticatorOptions {
  readonly providers: readonly ResolvedJwtProvider[];
  readonly maxTokenBytes: number;
  readonly tokenCacheEntries: number;
  readonly opaqueLocations: readonly ResolvedLocation[];
}

/** Most providers one authenticator takes. */
export const MAX_PROVIDERS = 32;
/** Most distinct token locations across all providers (one bit each in a mask). */
const MAX_DISTINCT_LOCATIONS = 30;

/**
 * Checks authenticator options without building anything: every problem,
 * with paths relative to the options object (`providers[1].issuer`), so the
 * config module can prefix them with its own section path. `hasJwtBundles`
 * says whether a Workload API bundle source will be supplied.
 */
export function tokenAuthenticatorProblems(options: TokenAuthenticatorOptions, hasJwtBundles: boolean): AuthOptionsProblem[] {
  return resolve(options, hasJwtBundles).problems;
}

/** Resolves options or throws AuthOptionsError with every problem. */
export function resolveAuthenticatorOptions(options: TokenAuthenticatorOptions, hasJwtBundles: boolean): ResolvedAuthenticatorOptions {
  const r = resolve(options, hasJwtBundles);
  if (r.problems.length > 0 || r.resolved === undefined) throw new AuthOptionsError(r.problems);
  return r.resolved;
}

function resolve(o: TokenAuthenticatorOptions, hasJwtBundles: boolean): { problems: AuthOptionsProblem[]; resolved?: ResolvedAuthenticatorOptions } {
  const problems: AuthOptionsProblem[] = [];
  const providers: ResolvedJwtProvider[] = [];
  if (!Array.isArray(o.providers) || o.providers.length > MAX_PROVIDERS) {
    problems.push({ path: 'providers', code: 'auth.key_source', message: `must be a list of at most ${MAX_PROVIDERS} providers` });
  } else {
    const names = new Set<string>();
    const issuers = new Set<string>();
    let workload = 0;
    o.providers.forEach((p, i) => {
      const path = `providers[${i}]`;
      const r = checkJwtProvider(p, path);
      problems.push(...r.problems);
      if (typeof p?.name === 'string') {
        if (names.has(p.name)) problems.push({ path: `${path}.name`, code: 'auth.duplicate_name', message: `provider name "${p.name}" is used twice` });
        names.add(p.name);
      }
      // Routing is by exact `iss`: two providers with one issuer would make the choice arbitrary.
      if (typeof p?.issuer === 'string') {
        if (issuers.has(p.issuer)) problems.push({ path: `${path}.issuer`, code: 'auth.duplicate_issuer', message: 'another provider has the same issuer' });
        issuers.add(p.issuer);
      }
      if (p?.workloadApi === true) {
        if (++workload > 1) problems.push({ path, code: 'auth.duplicate_workload_provider', message: 'only one provider may use workloadApi' });
        if (!hasJwtBundles) problems.push({ path: `${path}.workloadApi`, code: 'auth.no_bundle_source', message: 'needs the Workload API JWT bundle source, which was not supplied' });
      }
      if (r.resolved !== undefined) providers.push(r.resolved);
    });
  }
  const maxTokenBytes = intIn(o.maxTokenBytes, 8_192, 256, 65_536, 'maxTokenBytes', problems);
  const tokenCacheEntries = intIn(o.tokenCacheEntries, 10_000, 0, 1_000_000, 'tokenCacheEntries', problems);
  const opaqueList = o.opaqueTokenLocations ?? DEFAULT_TOKEN_LOCATIONS;
  const opaqueProblems = tokenLocationProblems(opaqueList, 'opaqueTokenLocations');
  problems.push(...opaqueProblems);
  const opaqueLocations = opaqueProblems.length === 0 ? resolveTokenLocations(opaqueList) : [];
  const distinct = new Set([...providers.flatMap((p) => p.locations), ...opaqueLocations].map((l) => l.id));
  if (distinct.size > MAX_DISTINCT_LOCATIONS) {
    problems.push({ path: 'providers', code: 'auth.bad_location', message: `more than ${MAX_DISTINCT_LOCATIONS} distinct token locations in all` });
  }
  if (problems.length > 0) return { problems };
  return { problems, resolved: Object.freeze({ providers: Object.freeze(providers), maxTokenBytes, tokenCacheEntries, opaqueLocations: Object.freeze(opaqueLocations) }) };
}

function intIn(v: number | undefined, dflt: number, min: number, max: number, path: string, problems: AuthOptionsProblem[]): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.push({ path, code: 'auth.out_of_range', message: `${String(v)} must be an integer from ${min} to ${max}` });
    return dflt;
  }
  return v;
}
