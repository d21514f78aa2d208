import { CONFIG_ENV_VARS, ENV_PREFIX, formatAddress, type Address } from '../core/index.ts';
import { addressesOverlap } from './address-fields.ts';
import type { Config } from './config.ts';
import { ConfigError } from './config-error.ts';
import { ConfigReader, type Env } from './config-reader.ts';
import { deepFreeze } from './deep-freeze.ts';
import { didYouMean } from './did-you-mean.ts';
import { typeName } from './parsed.ts';
import { authSection } from './auth-section.ts';
import { inboundSection, outboundSection, tcpSection } from './proxy-sections.ts';
import { settingsSections } from './settings-sections.ts';
import { spiffeSection } from './spiffe-section.ts';
import { tracingSection } from './tracing-section.ts';

const TOP_KEYS = ['spiffe', 'inbound', 'outbound', 'tcp', 'auth', 'headers', 'admin', 'limits', 'drain', 'log', 'metrics', 'tracing'] as const;

/** Listeners we bind, and the addresses we forward plaintext to, for collision checks. */
function checkSockets(r: ConfigReader, c: Omit<Config, 'warnings' | 'source'>): void {
  const listeners: { path: string; address: Address }[] = [];
  if (c.inbound) listeners.push({ path: 'inbound.listen', address: c.inbound.listen });
  if (c.outbound) listeners.push({ path: 'outbound.listen', address: c.outbound.listen });
  c.tcp.forEach((t, i) => listeners.push({ path: `tcp[${i}].listen`, address: t.listen }));
  listeners.push({ path: 'admin.listen', address: c.admin.listen });
  const valid = listeners.filter((l) => l.address.port !== 0);

  valid.forEach((l, i) => {
    const clash = valid.slice(0, i).find((o) => addressesOverlap(o.address, l.address));
    if (clash) r.problem(l.path, `${formatAddress(l.address)} overlaps ${clash.path} (${formatAddress(clash.address)}): both cannot listen on it`);
  });

  // Forwarding plaintext to one of our own listeners would loop traffic
  // through the sidecar (and, for inbound, hand the app's port to callers).
  const targets: { path: string; address: Address }[] = [];
  if (c.inbound) {
    targets.push({ path: 'inbound.app', address: c.inbound.app });
    c.inbound.appPorts.forEach((a, i) => targets.push({ path: `inbound.appPorts[${i}].app`, address: a.app }));
  }
  c.tcp.forEach((t, i) => {
    if (t.direction === 'inbound') targets.push({ path: `tcp[${i}].target`, address: t.target });
  });
  for (const t of targets) {
    if (t.address.port === 0) continue;
    const own = valid.find((l) => addressesOverlap(l.address, t.address));
    if (own) r.problem(t.path, `${formatAddress(t.address)} is the sidecar's own ${own.path}: traffic would loop`);
  }
}

function warnUnknownEnv(r: ConfigReader): void {
  for (const name of r.envNames()) {
    if (!name.startsWith(ENV_PREFIX) || CONFIG_ENV_VARS.includes(name)) continue;
    // Only near-misses are reported: other parts of the program may define
    // their own SPIFFE_SIDECAR_ variables that this module does not know.
    const hint = didYouMean(name, CONFIG_ENV_VARS);
    if (hint !== undefined) r.warn(`environment variable ${name} is ignored (did you mean ${hint}?)`);
  }
}

/**
 * Validates a parsed configuration document plus environment overrides and
 * returns one deeply frozen Config. Pure: the caller reads the file and
 * passes `env` (normally the process environment). `source` names the input in messages.
 *
 * Every problem is collected; if there is any, throws one ConfigError
 * ('config.invalid') listing them all. An empty document (null) is valid
 * when the environment supplies what is required.
 */
export function parseConfig(input: unknown, env: Env, source: string): Config {
  const r = new ConfigReader(env);
  if (input !== null && input !== undefined && (typeof input !== 'object' || Array.isArray(input))) {
    throw new ConfigError('config.invalid', source, [{ path: '(document)', message: `must be a mapping, got ${typeName(input)}` }]);
  }
  const root = r.mapping(input ?? {}, '', TOP_KEYS);

  const spiffe = spiffeSection(r, root);
  const inbound = inboundSection(r, root);
  const outbound = outboundSection(r, root);
  const tcp = tcpSection(r, root);
  const settings = settingsSections(r, root);
  const auth = authSection(r, root);
  if (auth !== null && inbound === null) r.warn('auth is configured but inbound is not: tokens are checked only on inbound requests');
  const tracing = tracingSection(r, root);
  const body = { spiffe, inbound, outbound, tcp, auth, ...settings, tracing };
  checkSockets(r, body);
  warnUnknownEnv(r);
  if (inbound === null && outbound === null && tcp.length === 0 && r.problems.length === 0) {
    r.warn('no proxy is configured (inbound, outbound and tcp are all absent): the sidecar only serves the admin endpoints');
  }

  if (r.problems.length > 0) throw new ConfigError('config.invalid', source, r.problems);
  return deepFreeze({ source, ...body, warnings: [...r.warnings] });
}
