import type { X509BundleSet } from '../bundle/index.ts';
import { describeError } from '../core/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import { verifyX509SvidChain, type X509Svid } from '../svid/index.ts';
import { fail, ok, skipped, warn, type CheckResult } from './check-result.ts';

/** The identity the Workload API gave this process, as the identity checks see it. */
export interface IdentityFacts {
  readonly svids: readonly X509Svid[];
  readonly bundles: X509BundleSet;
}

/** One FetchX509SVID attempt: what came back, or why nothing did. */
export type WorkloadApiOutcome =
  | { readonly ok: true; readonly target: string; readonly identity: IdentityFacts; readonly elapsedMs: number }
  | { readonly ok: false; readonly target: string; readonly error: string };

/**
 * SPIRE backdates an X509-SVID's notBefore by 10 s to absorb small clock
 * differences (SPIRE pkg/server/credtemplate/builder.go, `backdate`); an
 * SVID not valid yet means our clock is behind the issuer's by more than that.
 */
export const SPIRE_BACKDATE_MS = 10_000;

/**
 * SPIRE agents renew an SVID at half its lifetime; one with less than a
 * third left was not renewed when it should have been.
 */
const RENEWAL_OVERDUE_FRACTION = 1 / 3;

/** `1h 5m`, `42s`: a span for people. */
export function humanSpan(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** `workload-api`: the agent answered FetchX509SVID with at least one SVID. */
export function checkWorkloadApi(outcome: WorkloadApiOutcome): CheckResult {
  const name = 'workload-api';
  if (!outcome.ok) {
    return fail(
      name,
      outcome.error,
      'start the SPIRE agent and mount its socket into this container; set spiffe.endpointSocket or SPIFFE_ENDPOINT_SOCKET to it. PermissionDenied: no registration entry matches this workload (spire-server entry show)',
    );
  }
  const n = outcome.identity.svids.length;
  return ok(name, `${outcome.target} answered in ${outcome.elapsedMs} ms with ${n === 1 ? '1 SVID' : `${n} SVIDs`}`);
}

/** The SVID the sidecar would use: the one with `hint`, or the first ('' hint). */
export function pickSvid(identity: IdentityFacts, hint: string): X509Svid | undefined {
  return hint === '' ? identity.svids[0] : identity.svids.find((s) => s.hint === hint);
}

/** `svid`: the SVID the sidecar would use exists, is valid now, and is not overdue for renewal. */
export function checkSvid(outcome: WorkloadApiOutcome, hint: string, nowMs: number): CheckResult {
  const name = 'svid';
  if (!outcome.ok) return skipped(name, 'the Workload API did not answer');
  const svid = pickSvid(outcome.identity, hint);
  if (svid === undefined) {
    const hints = outcome.identity.svids.map((s) => JSON.stringify(s.hint)).join(', ');
    return fail(name, `no SVID with hint ${JSON.stringify(hint)} (the agent sent hints ${hints})`, 'set spiffe.svidHint to one of the hints above, or register an entry with that hint');
  }
  const id = svid.id.toString();
  const left = svid.notAfter.getTime() - nowMs;
  if (left <= 0) {
    return fail(
      name,
      `${id} expired ${humanSpan(left)} ago (${svid.notAfter.toISOString()})`,
      'the agent is not renewing it: check the SPIRE agent log and its connection to the server; or this clock is ahead (sync it with NTP)',
    );
  }
  const lifetime = svid.notAfter.getTime() - svid.notBefore.getTime();
  if (left < lifetime * RENEWAL_OVERDUE_FRACTION) {
    return warn(
      name,
      `${id} expires in ${humanSpan(left)} (${svid.notAfter.toISOString()}), under a third of its ${humanSpan(lifetime)} lifetime`,
      'the agent renews SVIDs at half their lifetime: check the SPIRE agent log and its connection to the server',
    );
  }
  return ok(name, `${id} expires in ${humanSpan(left)} (${svid.notAfter.toISOString()})`);
}

/**
 * `clock-skew`: an SVID whose notBefore is in the future means this clock
 * is behind the issuer's by more than SPIRE's backdating; TLS peers would
 * reject it too (RFC 5280 §4.1.2.5).
 */
export function checkClockSkew(outcome: WorkloadApiOutcome, hint: string, nowMs: number): CheckResult {
  const name = 'clock-skew';
  const svid = outcome.ok ? pickSvid(outcome.identity, hint) : undefined;
  if (svid === undefined) return skipped(name, 'no SVID to compare the clock with');
  const ahead = svid.notBefore.getTime() - nowMs;
  if (ahead > 0) {
    return fail(
      name,
      `the SVID is valid only from ${svid.notBefore.toISOString()}, ${humanSpan(ahead)} from now: this clock is behind the issuer's by more than ${humanSpan(ahead + SPIRE_BACKDATE_MS)}`,
      'synchronise this host clock (NTP, chrony); peers reject certificates that are not valid yet',
    );
  }
  return ok(name, `SVID valid since ${humanSpan(ahead)} ago; no sign of clock skew`);
}

/** `bundles`: our own trust domain has a bundle that verifies the SVID; federated ones are listed, expired CAs flagged. */
export function checkBundles(outcome: WorkloadApiOutcome, hint: string, expected: TrustDomain | null, nowMs: number): CheckResult {
  const name = 'bundles';
  const svid = outcome.ok ? pickSvid(outcome.identity, hint) : undefined;
  if (!outcome.ok || svid === undefined) return skipped(name, 'no SVID to check the bundles against');
  const own = svid.id.trustDomain;
  if (expected !== null && !expected.equals(own)) {
    return fail(name, `the SVID is in trust domain ${own.name}, the configuration says ${expected.name}`, 'correct spiffe.trustDomain, or fix the registration entry of this workload');
  }
  const bundles = outcome.identity.bundles;
  if (bundles.get(own) === undefined) {
    return fail(name, `no X.509 bundle for our own trust domain ${own.name}`, 'the agent must send its own trust bundle: check the SPIRE agent and server logs');
  }
  try {
    // Verified at the middle of the SVID's validity, so a clock problem shows in clock-skew, not here.
    const at = (svid.notBefore.getTime() + svid.notAfter.getTime()) / 2;
    verifyX509SvidChain(svid.certificates.map((c) => c.der), bundles, { at });
  } catch (err) {
    return fail(name, `the SVID does not verify against the ${own.name} bundle: ${describeError(err)}`, 'the agent sent a bundle that does not hold the SVID issuer: check SPIRE CA rotation and the agent logs');
  }
  const expired: string[] = [];
  for (const b of bundles) {
    for (const ca of b.authorities) if (ca.notAfter.getTime() <= nowMs) expired.push(`${b.trustDomain.name} (${ca.subject})`);
  }
  const federated = bundles.trustDomains().filter((td) => !td.equals(own)).map((td) => td.name);
  const detail = `${own.name}${federated.length > 0 ? `; federated: ${federated.join(', ')}` : '; no federated trust domains'}`;
  if (expired.length > 0) {
    return warn(name, `${detail}; expired CA certificates: ${expired.join(', ')}`, 'expired authorities verify nothing: remove them from the trust bundle (spire-server bundle / federation relationship)');
  }
  return ok(name, detail);
}
