import { ENV_APP_PROBES, HEADER_FIELD_VALUE, HEADER_NAME_TOKEN, MAX_PROBE_TARGET_LENGTH, PROBE_FRAMING_HEADERS, isProbeTargetSyntax, probeTargetPath, type Address } from '../core/index.ts';
import type { AppProbe, AppProbeHeader } from './config.ts';
import { childPath, itemPath, type ConfigReader, type Mapping } from './config-reader.ts';
import { parseDuration } from './duration.ts';
import { anyString, integerIn } from './field-parsers.ts';
import { accept, quoted, reject, typeName, type Parsed } from './parsed.ts';

const ENTRY_KEYS = ['port', 'target', 'scheme', 'headers', 'timeout'] as const;
const HEADER_KEYS = ['name', 'value'] as const;
/** The kubelet's own default timeoutSeconds. */
const DEFAULT_TIMEOUT_MS = 1000;

const port = integerIn(1, 65535);
const timeout = (raw: unknown): Parsed<number> => parseDuration(raw, { allowZero: false });

function target(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be a path such as /healthz, got ${typeName(raw)}`);
  if (!raw.startsWith('/')) return reject(`${quoted(raw)}: must start with "/"`);
  if (raw.length > MAX_PROBE_TARGET_LENGTH) return reject(`${quoted(raw)}: must be at most ${MAX_PROBE_TARGET_LENGTH} characters`);
  if (!isProbeTargetSyntax(raw)) {
    return reject(`${quoted(raw)}: must be a URL path with an optional ?query (RFC 3986 characters; percent-encode the others)`);
  }
  return accept(raw);
}

function scheme(raw: unknown): Parsed<'HTTP'> {
  if (raw === 'HTTP') return accept('HTTP');
  if (typeof raw === 'string' && raw.toUpperCase() === 'HTTPS') {
    // The forwarded request would have to verify the app's own certificate,
    // whose trust the sidecar does not know; skipping verification would
    // make the probe a TLS client that accepts anything.
    return reject(
      `${quoted(raw)}: HTTPS app probes are not supported: the sidecar probes the app in plain HTTP over loopback and cannot verify the app's own certificate; exclude the port from capture (spiffe-sidecar.io/exclude-inbound-ports) so the kubelet probes it directly, or use an exec probe`,
    );
  }
  return reject(`${quoted(raw)}: must be HTTP`);
}

function headerName(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return reject(`must be a header name, got ${typeName(raw)}`);
  if (!HEADER_NAME_TOKEN.test(raw)) return reject(`${quoted(raw)}: must be an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~)`);
  if (PROBE_FRAMING_HEADERS.has(raw.toLowerCase())) return reject(`${quoted(raw)}: the sidecar sets connection and framing headers itself`);
  return accept(raw);
}

function headerValue(raw: unknown): Parsed<string> {
  const s = anyString(raw);
  if (!s.ok) return s;
  return HEADER_FIELD_VALUE.test(s.value) ? s : reject(`${quoted(raw)}: must not contain control characters (CR, LF, NUL)`);
}

function headers(r: ConfigReader, m: Mapping, path: string): AppProbeHeader[] {
  const out: AppProbeHeader[] = [];
  const listPath = childPath(path, 'headers');
  let hostAt: string | undefined;
  (r.list(m, 'headers', path) ?? []).forEach((raw, i) => {
    const hPath = itemPath(listPath, i);
    const h = r.mapping(raw, hPath, HEADER_KEYS);
    if (h === undefined) return;
    if (!r.has(h, 'name')) r.problem(childPath(hPath, 'name'), 'is required, e.g. X-Probe');
    if (!r.has(h, 'value')) r.problem(childPath(hPath, 'value'), 'is required (may be "")');
    const name = r.read(h, 'name', hPath, headerName, '');
    const value = r.read(h, 'value', hPath, headerValue, '');
    if (name.toLowerCase() === 'host') {
      // Two Host fields make a request every server must refuse (RFC 9112 §3.2).
      if (hostAt !== undefined) r.problem(childPath(hPath, 'name'), `Host is already set by ${hostAt}`);
      hostAt ??= hPath;
    }
    out.push({ name, value });
  });
  return out;
}

function entries(r: ConfigReader, list: readonly unknown[], listPath: string, adminListen: Address): AppProbe[] {
  const out: AppProbe[] = [];
  const seen = new Map<string, string>();
  list.forEach((raw, i) => {
    const path = itemPath(listPath, i);
    const m = r.mapping(raw, path, ENTRY_KEYS);
    if (m === undefined) return;
    if (!r.has(m, 'port')) r.problem(childPath(path, 'port'), "is required: the app's port, e.g. 8080");
    if (!r.has(m, 'target')) r.problem(childPath(path, 'target'), 'is required: the path the app serves the probe on, e.g. /healthz');
    const p = r.read(m, 'port', path, port, 0);
    const t = r.read(m, 'target', path, target, '');
    if (p !== 0 && p === adminListen.port) {
      r.problem(childPath(path, 'port'), `${p} is the admin listener's own port: the probe would loop`);
    }
    if (p !== 0 && t !== '') {
      // Served paths are matched without their query, so two targets that
      // differ only in the query would answer to the same path.
      const key = `${p} ${probeTargetPath(t)}`;
      const first = seen.get(key);
      if (first !== undefined) r.problem(childPath(path, 'target'), `port ${p} path ${quoted(probeTargetPath(t))} is already probed by ${first}`);
      else seen.set(key, path);
    }
    out.push({
      port: p,
      target: t,
      scheme: r.read(m, 'scheme', path, scheme, 'HTTP'),
      headers: headers(r, m, path),
      timeoutMs: r.read(m, 'timeout', path, timeout, DEFAULT_TIMEOUT_MS),
    });
  });
  return out;
}

/**
 * Reads `admin.appProbes` and its override, env SPIFFE_SIDECAR_APP_PROBES
 * (a JSON array of the same entries, which replaces the file's list). The
 * admin listener serves `/app-probe/<port><path>` for these entries only:
 * serving any port and path would let every pod that reaches the admin port
 * send requests to the app around the inbound mTLS and policy.
 */
export function appProbesSection(r: ConfigReader, admin: Mapping | undefined, adminListen: Address): AppProbe[] {
  const fromFile = entries(r, r.list(admin, 'appProbes', 'admin') ?? [], 'admin.appProbes', adminListen);
  const fromEnv = r.envList(ENV_APP_PROBES, 'probes');
  return fromEnv === undefined ? fromFile : entries(r, fromEnv, `env ${ENV_APP_PROBES}`, adminListen);
}
