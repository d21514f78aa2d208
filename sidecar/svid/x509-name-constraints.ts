import { isIP } from 'node:net';
import type { CertificateInfo, GeneralSubtreeInfo, NameConstraintsInfo } from '../x509/index.ts';

/**
 * Checks the names of `cert` against a CA's name constraints (RFC 5280
 * §4.2.1.10) and returns why they violate them, or undefined.
 *
 * URI names are matched on their host, which for a SPIFFE ID is the trust
 * domain: a constraint `example.org` permits exactly that host, `.example.org`
 * any host below it (RFC 5280; go-spiffe's Go verifier also lets `example.org`
 * match subdomains, so this is stricter). DNS names match the constraint or
 * any name with labels added on the left; a leading '.' means subdomains only.
 *
 * Constraint forms this project does not evaluate (IP, email, directoryName)
 * fail closed: if the certificate carries a name of that form (an IP or email
 * SAN, or a non-empty subject for directoryName), it is a violation, because
 * silently ignoring a constraint would trust more than the CA allowed.
 */
export function nameConstraintViolation(nc: NameConstraintsInfo, cert: CertificateInfo): string | undefined {
  for (const uri of cert.uriSans) {
    const host = uriHost(uri);
    const relevant = [...nc.permitted, ...nc.excluded].some((s) => s.type === 'uri');
    if (!relevant) continue;
    if (host === undefined) return `URI SAN ${JSON.stringify(uri)} has no host to match URI constraints against`;
    if (isIP(host) !== 0 || host.startsWith('[')) return `URI SAN ${JSON.stringify(uri)} has an IP host, which URI constraints cannot match`;
    const v = check(nc, 'uri', (c) => matchUriHost(host, c));
    if (v) return `URI SAN ${JSON.stringify(uri)} ${v}`;
  }
  for (const name of cert.dnsSans) {
    const v = check(nc, 'dns', (c) => matchDns(name.toLowerCase(), c.toLowerCase()));
    if (v) return `DNS SAN ${JSON.stringify(name)} ${v}`;
  }
  const present: Record<'ip' | 'email' | 'directoryName', boolean> = {
    ip: cert.hasIpSans,
    email: cert.hasEmailSans,
    directoryName: cert.subjectDer.length > 2, // an empty Name is the two bytes 30 00
  };
  for (const form of ['ip', 'email', 'directoryName'] as const) {
    if (!present[form]) continue;
    if ([...nc.permitted, ...nc.excluded].some((s) => s.type === form)) {
      return `has ${form} names, and ${form} name constraints are not supported (rejected rather than ignored)`;
    }
  }
  return undefined;
}

function check(nc: NameConstraintsInfo, type: GeneralSubtreeInfo['type'], matches: (constraint: string) => boolean): string | undefined {
  for (const s of nc.excluded) if (s.type === type && matches(s.value)) return `is in excluded subtree ${JSON.stringify(s.value)}`;
  const permitted = nc.permitted.filter((s) => s.type === type);
  if (permitted.length > 0 && !permitted.some((s) => matches(s.value))) return 'is not in any permitted subtree';
  return undefined;
}

function uriHost(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!m) return undefined;
  let host = m[1]!;
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  if (!host.startsWith('[')) host = host.replace(/:\d*$/, '');
  return host === '' ? undefined : host.toLowerCase();
}

function matchUriHost(host: string, constraint: string): boolean {
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return host.endsWith(c) && host.length > c.length;
  return host === c;
}

function matchDns(name: string, constraint: string): boolean {
  if (constraint === '') return true;
  if (constraint.startsWith('.')) return name.endsWith(constraint) && name.length > constraint.length;
  return name === constraint || name.endsWith('.' + constraint);
}
