import {
  contextHandleProblems,
  DEFAULT_CONTEXT_HANDLE_ENTRIES,
  DEFAULT_CONTEXT_HANDLE_HEADER,
  DEFAULT_CONTEXT_HANDLE_LIFETIME_MS,
  IntrospectionOptionsError,
  resolveIntrospectionOptions,
  tokenAuthenticatorProblems,
  type IntrospectionOptions,
  type JwtProviderOptions,
  type KeySetCacheOptions,
  type TokenLocation,
} from '../auth/index.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { parseDuration } from './duration.ts';
import { integerIn, nonEmptyString, oneOf, yamlBoolean } from './field-parsers.ts';
import { accept, reject, typeName, type Parsed } from './parsed.ts';

/** A JWT provider as configured: the auth module's options, with the CA as a file the sidecar reads at start. */
export type JwtProviderConfig = Omit<JwtProviderOptions, 'ca'> & { readonly caFile?: string };

/** How the sidecar authenticates to the introspection endpoint, as configured (the certificate is its SVID, supplied at start). */
export type IntrospectionClientAuthConfig =
  | { readonly method: 'client_secret_basic' | 'client_secret_post'; readonly clientId: string; readonly clientSecretFile: string }
  | { readonly method: 'tls_client_auth' | 'self_signed_tls_client_auth'; readonly clientId: string };

/** The opaque-token provider as configured. */
export type IntrospectionConfig = Omit<IntrospectionOptions, 'ca' | 'clientAuth'> & {
  readonly caFile?: string;
  readonly clientAuth: IntrospectionClientAuthConfig;
};

/** `auth:`: end-user token authentication on inbound (docs/config.md, docs/end-user-identity.md). */
export interface AuthConfig {
  readonly jwt: readonly JwtProviderConfig[];
  readonly introspection: IntrospectionConfig | null;
  /** Keep the token for the app (default false: it gets verified identity headers instead). */
  readonly forwardToken: boolean;
  /** Longest `/readyz` waits for the first key fetch of every provider before reporting not ready. */
  readonly readyTimeoutMs: number;
  /** Context handles given to the app per verified request (docs/end-user-identity.md, "Context handles"); null when off. */
  readonly contextHandle: ContextHandleConfig | null;
}

/** `auth.contextHandle` when enabled. */
export interface ContextHandleConfig {
  /** Header name, lowercase (default x-auth-context). */
  readonly header: string;
  readonly maxLifetimeMs: number;
  readonly maxEntries: number;
  /** The outbound side resolves the handle even when the app sent its own bearer token. */
  readonly preferHandle: boolean;
}

const AUTH_KEYS = ['jwt', 'introspection', 'forwardToken', 'readyTimeout', 'contextHandle'] as const;
const CONTEXT_HANDLE_KEYS = ['enabled', 'header', 'maxLifetime', 'maxEntries', 'preferHandle'] as const;
const JWT_KEYS = [
  'name',
  'issuer',
  'audiences',
  'jwksUri',
  'discovery',
  'keysFile',
  'workloadApi',
  'algorithms',
  'requireTyp',
  'clockSkew',
  'tokenLocations',
  'keySetCache',
  'fetchTimeout',
  'caFile',
] as const;
const CACHE_KEYS = ['minLifetime', 'maxLifetime', 'defaultLifetime', 'staleIfError', 'unknownKeyRefetchInterval'] as const;
const LOCATION_KEYS = ['header', 'prefix', 'cookie'] as const;
const INTROSPECTION_KEYS = [
  'name',
  'endpoint',
  'issuer',
  'audiences',
  'clientAuth',
  'cacheMaxTtl',
  'negativeCacheTtl',
  'maxCacheEntries',
  'requestTimeout',
  'maxInFlight',
  'clockSkew',
  'caFile',
  'phantom',
  'phantomSource',
  'exchangeEndpoint',
  'exchangeAudience',
  'jwksUri',
] as const;
const CLIENT_AUTH_KEYS = ['method', 'clientId', 'clientSecretFile'] as const;
const clientAuthMethod = oneOf(['client_secret_basic', 'client_secret_post', 'tls_client_auth', 'self_signed_tls_client_auth'] as const);
const phantomSource = oneOf(['jwt-introspection', 'token-exchange'] as const);
const zeroOk = (raw: unknown) => parseDuration(raw, { allowZero: true });
const positive = (raw: unknown) => parseDuration(raw, { allowZero: false });

function stringList(raw: unknown): Parsed<string[]> {
  if (!Array.isArray(raw)) return reject(`must be a list of strings, got ${typeName(raw)}`);
  if (!raw.every((s) => typeof s === 'string' && s !== '')) return reject('must be a list of non-empty strings');
  return accept(raw as string[]);
}

/** Sets `key` on `out` when the document has it, so absent keys take the auth module's defaults. */
function optional<T>(r: ConfigReader, m: Mapping, key: string, path: string, parse: (raw: unknown) => Parsed<T>, set: (v: T) => void): void {
  if (!r.has(m, key)) return;
  const v = r.read<T | undefined>(m, key, path, parse, undefined);
  if (v !== undefined) set(v);
}

function tokenLocations(r: ConfigReader, m: Mapping, path: string): TokenLocation[] | undefined {
  const raw = r.list(m, 'tokenLocations', path);
  if (raw === undefined) return undefined;
  const out: TokenLocation[] = [];
  raw.forEach((item, i) => {
    const at = itemPath(childPath(path, 'tokenLocations'), i);
    const e = r.mapping(item, at, LOCATION_KEYS);
    if (e === undefined) return;
    if (r.has(e, 'cookie') === r.has(e, 'header')) return r.problem(at, 'needs exactly one of header or cookie');
    if (r.has(e, 'cookie')) {
      if (r.has(e, 'prefix')) r.problem(childPath(at, 'prefix'), 'applies only to a header');
      out.push({ cookie: r.read(e, 'cookie', at, nonEmptyString, '') });
      return;
    }
    const header = r.read(e, 'header', at, nonEmptyString, '');
    // A prefix is taken verbatim, spaces included: 'Bearer ' is not 'Bearer'.
    if (r.has(e, 'prefix')) out.push({ header, prefix: r.read(e, 'prefix', at, (v) => (typeof v === 'string' ? accept(v) : reject('must be a string')), '') });
    else out.push({ header });
  });
  return out;
}

function keySetCache(r: ConfigReader, m: Mapping, path: string): KeySetCacheOptions | undefined {
  const c = r.section(m, 'keySetCache', path, CACHE_KEYS);
  if (c === undefined) return undefined;
  const at = childPath(path, 'keySetCache');
  const out: { -readonly [K in keyof KeySetCacheOptions]: number } = {};
  optional(r, c, 'minLifetime', at, positive, (v) => (out.minLifetimeMs = v));
  optional(r, c, 'maxLifetime', at, positive, (v) => (out.maxLifetimeMs = v));
  optional(r, c, 'defaultLifetime', at, positive, (v) => (out.defaultLifetimeMs = v));
  optional(r, c, 'staleIfError', at, zeroOk, (v) => (out.staleIfErrorMs = v));
  optional(r, c, 'unknownKeyRefetchInterval', at, positive, (v) => (out.unknownKeyRefetchIntervalMs = v));
  return out;
}

function jwtProvider(r: ConfigReader, raw: unknown, path: string): JwtProviderConfig | undefined {
  const m = r.mapping(raw, path, JWT_KEYS);
  if (m === undefined) return undefined;
  const o: { -readonly [K in keyof JwtProviderConfig]: JwtProviderConfig[K] } = {
    name: r.has(m, 'name') ? r.read(m, 'name', path, nonEmptyString, '') : (r.problem(childPath(path, 'name'), 'is required, e.g. corp-idp'), ''),
    audiences: r.has(m, 'audiences') ? r.read(m, 'audiences', path, stringList, []) : (r.problem(childPath(path, 'audiences'), 'is required: the aud values this workload accepts'), []),
  };
  optional(r, m, 'issuer', path, nonEmptyString, (v) => (o.issuer = v));
  optional(r, m, 'jwksUri', path, nonEmptyString, (v) => (o.jwksUri = v));
  optional(r, m, 'discovery', path, yamlBoolean, (v) => (o.discovery = v));
  optional(r, m, 'keysFile', path, nonEmptyString, (v) => (o.keysFile = v));
  optional(r, m, 'workloadApi', path, yamlBoolean, (v) => (o.workloadApi = v));
  optional(r, m, 'algorithms', path, stringList, (v) => (o.algorithms = v));
  optional(r, m, 'requireTyp', path, oneOf(['at+jwt'] as const), (v) => (o.requireTyp = v));
  optional(r, m, 'clockSkew', path, zeroOk, (v) => (o.clockSkewMs = v));
  optional(r, m, 'fetchTimeout', path, positive, (v) => (o.fetchTimeoutMs = v));
  optional(r, m, 'caFile', path, nonEmptyString, (v) => (o.caFile = v));
  const locations = tokenLocations(r, m, path);
  if (locations !== undefined) o.tokenLocations = locations;
  const cache = keySetCache(r, m, path);
  if (cache !== undefined) o.keySetCache = cache;
  return o;
}

function introspection(r: ConfigReader, root: Mapping, path: string): IntrospectionConfig | null {
  const m = r.section(root, 'introspection', path, INTROSPECTION_KEYS);
  if (m === undefined) return null;
  const at = childPath(path, 'introspection');
  const req = <T>(key: string, parse: (raw: unknown) => Parsed<T>, fallback: T, example: string): T => {
    if (r.has(m, key)) return r.read(m, key, at, parse, fallback);
    r.problem(childPath(at, key), `is required, e.g. ${example}`);
    return fallback;
  };
  const name = req('name', nonEmptyString, '', 'edge-opaque');
  const endpoint = req('endpoint', nonEmptyString, '', 'https://as.example/introspect');
  let clientAuth: IntrospectionClientAuthConfig = { method: 'tls_client_auth', clientId: '' };
  const ca = r.section(m, 'clientAuth', at, CLIENT_AUTH_KEYS);
  const caPath = childPath(at, 'clientAuth');
  if (ca === undefined) {
    if (!r.has(m, 'clientAuth')) r.problem(caPath, 'is required: method (tls_client_auth to use the SVID) and clientId');
  } else {
    const method = r.has(ca, 'method') ? r.read(ca, 'method', caPath, clientAuthMethod, 'tls_client_auth') : (r.problem(childPath(caPath, 'method'), 'is required'), 'tls_client_auth' as const);
    const clientId = r.has(ca, 'clientId') ? r.read(ca, 'clientId', caPath, nonEmptyString, '') : (r.problem(childPath(caPath, 'clientId'), 'is required'), '');
    if (method === 'client_secret_basic' || method === 'client_secret_post') {
      // Secrets never sit in the configuration: only a file path does.
      if (!r.has(ca, 'clientSecretFile')) r.problem(childPath(caPath, 'clientSecretFile'), `is required with ${method}: a file holding the secret (never the secret itself)`);
      clientAuth = { method, clientId, clientSecretFile: r.read(ca, 'clientSecretFile', caPath, nonEmptyString, '') };
    } else {
      if (r.has(ca, 'clientSecretFile')) r.problem(childPath(caPath, 'clientSecretFile'), `does not apply to ${method}: the sidecar's X509-SVID authenticates it`);
      clientAuth = { method, clientId };
    }
  }
  const o: { -readonly [K in keyof IntrospectionConfig]: IntrospectionConfig[K] } = { provider: name, endpoint, clientAuth };
  optional(r, m, 'issuer', at, nonEmptyString, (v) => (o.issuer = v));
  optional(r, m, 'audiences', at, stringList, (v) => (o.audiences = v));
  optional(r, m, 'cacheMaxTtl', at, positive, (v) => (o.cacheMaxTtlMs = v));
  optional(r, m, 'negativeCacheTtl', at, zeroOk, (v) => (o.negativeCacheTtlMs = v));
  optional(r, m, 'maxCacheEntries', at, integerIn(1, 1_000_000), (v) => (o.maxCacheEntries = v));
  optional(r, m, 'requestTimeout', at, positive, (v) => (o.requestTimeoutMs = v));
  optional(r, m, 'maxInFlight', at, integerIn(1, 10_000), (v) => (o.maxInFlight = v));
  optional(r, m, 'clockSkew', at, zeroOk, (v) => (o.clockSkewMs = v));
  optional(r, m, 'caFile', at, nonEmptyString, (v) => (o.caFile = v));
  optional(r, m, 'phantom', at, yamlBoolean, (v) => (o.phantom = v));
  optional(r, m, 'phantomSource', at, phantomSource, (v) => (o.phantomSource = v));
  optional(r, m, 'exchangeEndpoint', at, nonEmptyString, (v) => (o.exchangeEndpoint = v));
  optional(r, m, 'exchangeAudience', at, nonEmptyString, (v) => (o.exchangeAudience = v));
  optional(r, m, 'jwksUri', at, nonEmptyString, (v) => (o.jwksUri = v));
  return o;
}

/** The auth module names fields as its options do (`clockSkewMs`); the document says `clockSkew`. */
function documentPath(base: string, optionPath: string): string {
  return `${base}.${optionPath.replace(/Ms(?=$|[.[])/g, '').replace(/^provider(?=$|\.)/, 'name')}`;
}

/**
 * Reads `auth:`. Each provider is validated by the auth module's own rules
 * (one home for them), and its problems are reported at this document's
 * paths, with every other configuration problem.
 */
export function authSection(r: ConfigReader, root: Mapping | undefined): AuthConfig | null {
  const m = r.section(root, 'auth', '', AUTH_KEYS);
  if (m === undefined) return null;
  const jwt: JwtProviderConfig[] = [];
  (r.list(m, 'jwt', 'auth') ?? []).forEach((raw, i) => {
    const p = jwtProvider(r, raw, itemPath('auth.jwt', i));
    if (p !== undefined) jwt.push(p);
  });
  const intro = introspection(r, m, 'auth');
  if (jwt.length === 0 && intro === null) r.problem('auth', 'configures no provider: add jwt providers or introspection (or remove the section)');
  const problemsBefore = r.problems.length;
  if (problemsBefore === 0) {
    // `ca` is read from caFile at start; validation needs only its presence, not its text.
    const asOptions = jwt.map(({ caFile: _caFile, ...p }) => p);
    for (const p of tokenAuthenticatorProblems({ providers: asOptions }, true)) {
      r.problem(documentPath('auth.jwt', p.path.replace(/^providers/, '')).replace('auth.jwt.[', 'auth.jwt['), p.message);
    }
    if (intro !== null) {
      const { caFile: _caFile, clientAuth, ...rest } = intro;
      const probe: IntrospectionOptions = {
        ...rest,
        clientAuth: 'clientSecretFile' in clientAuth ? clientAuth : { ...clientAuth, clientCertificate: () => ({ certChainPem: '', keyPem: '' }) },
      };
      try {
        resolveIntrospectionOptions(probe);
      } catch (err) {
        if (!(err instanceof IntrospectionOptionsError)) throw err;
        for (const p of err.problems) r.problem(documentPath('auth.introspection', p.path), p.message);
      }
    }
  }
  return {
    jwt,
    introspection: intro,
    forwardToken: r.read(m, 'forwardToken', 'auth', yamlBoolean, false),
    readyTimeoutMs: r.read(m, 'readyTimeout', 'auth', positive, 10_000),
    contextHandle: contextHandle(r, m),
  };
}

/** Reads `auth.contextHandle`: null when absent or `enabled: false`; checked by the store's own rules. */
function contextHandle(r: ConfigReader, m: Mapping): ContextHandleConfig | null {
  const path = 'auth.contextHandle';
  const c = r.section(m, 'contextHandle', 'auth', CONTEXT_HANDLE_KEYS);
  if (c === undefined) return null;
  const enabled = r.read(c, 'enabled', path, yamlBoolean, true);
  const o = {
    header: r.read(c, 'header', path, nonEmptyString, DEFAULT_CONTEXT_HANDLE_HEADER),
    maxLifetimeMs: r.read(c, 'maxLifetime', path, positive, DEFAULT_CONTEXT_HANDLE_LIFETIME_MS),
    maxEntries: r.read(c, 'maxEntries', path, integerIn(1, 1_000_000), DEFAULT_CONTEXT_HANDLE_ENTRIES),
    preferHandle: r.read(c, 'preferHandle', path, yamlBoolean, false),
  };
  for (const p of contextHandleProblems(o)) {
    const colon = p.indexOf(':');
    r.problem(`${path}.${p.slice(0, colon)}`, p.slice(colon + 1).trim());
  }
  return enabled ? o : null;
}
