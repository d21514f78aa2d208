import type { Config } from '../config/index.ts';
import { describeError, type Clock } from '../core/index.ts';
import type { X509Svid } from '../svid/index.ts';
import { WorkloadApiClient } from '../workload/index.ts';
import { adminGet } from './admin-client.ts';
import { skipped, type CheckResult } from './check-result.ts';
import { checkConfig, checkPolicies, type ConfigInput, type PolicyLinter } from './config-check.ts';
import { checkBundles, checkClockSkew, checkSvid, checkWorkloadApi, pickSvid, type WorkloadApiOutcome } from './identity-checks.ts';
import { checkIptables, type NatTableInput } from './iptables-check.ts';
import { checkListenersLive, checkListenersPreflight, checkReadyz, type AdminOutcome } from './listener-checks.ts';
import { liveListeners, trialBinds } from './listener-probes.ts';
import { checkTokenKeys, probeTokenKeys } from './token-keys-check.ts';
import { checkWebhookCert, type WebhookCertInput } from './webhook-cert-check.ts';

/** What to check. */
export interface CheckOptions {
  readonly config: ConfigInput;
  /** The environment the sidecar would see (SPIFFE_SIDECAR_* override the file, as in `run`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The admin URL of a running sidecar: live checks instead of pre-flight ones. */
  readonly admin?: URL;
  readonly webhookCert?: WebhookCertInput;
  /** Longest wait for each network step (Workload API, key fetches, admin calls). */
  readonly timeoutMs: number;
}

/** The outside world the checks read, injectable for tests. */
export interface CheckDeps {
  readonly clock: Clock;
  /** `policy lint`'s linter, so both agree on what a good policy is. */
  readonly lintPolicy: PolicyLinter;
  /** The pod's nat table (see readNatTable). */
  readonly natTable: () => Promise<NatTableInput>;
  /** Words for a failed Workload API call (default: the error's message). */
  readonly describeWorkloadFailure?: (err: unknown, target: string) => string;
}

/** Asks the Workload API once for our SVIDs and bundles, giving up after `timeoutMs`. */
async function fetchIdentity(client: WorkloadApiClient, target: string, timeoutMs: number, d: CheckDeps): Promise<WorkloadApiOutcome> {
  const started = d.clock.now();
  try {
    const ctx = await client.fetchX509Context({ signal: AbortSignal.timeout(timeoutMs) });
    return { ok: true, target, identity: ctx, elapsedMs: Math.round(d.clock.now() - started) };
  } catch (err) {
    const text = (d.describeWorkloadFailure ?? ((e: unknown) => describeError(e)))(err, target);
    return { ok: false, target, error: /abort/i.test(text) ? `no answer from ${target} within ${timeoutMs} ms` : text };
  }
}

async function adminOutcome(admin: URL, path: string, timeoutMs: number): Promise<AdminOutcome> {
  try {
    return await adminGet(admin, path, timeoutMs);
  } catch (err) {
    return { error: describeError(err) };
  }
}

/** The identity checks and the token-key probe, which share one Workload API connection. */
async function identityChecks(config: Config | undefined, o: CheckOptions, d: CheckDeps): Promise<CheckResult[]> {
  if (config === undefined) {
    const none: WorkloadApiOutcome = { ok: false, target: '(no configuration)', error: 'no usable configuration' };
    return [skipped('workload-api', 'no usable configuration'), checkSvid(none, '', 0), checkClockSkew(none, '', 0), checkBundles(none, '', null, 0), checkTokenKeys(undefined, undefined)];
  }
  const target = config.spiffe.endpointSocket;
  let client: WorkloadApiClient;
  try {
    client = new WorkloadApiClient({ address: target, env: o.env });
  } catch (err) {
    const outcome: WorkloadApiOutcome = { ok: false, target, error: describeError(err) };
    return [checkWorkloadApi(outcome), checkSvid(outcome, '', 0), checkClockSkew(outcome, '', 0), checkBundles(outcome, '', null, 0), checkTokenKeys(config.auth, undefined)];
  }
  try {
    const outcome = await fetchIdentity(client, target, o.timeoutMs, d);
    const now = d.clock.now();
    const hint = config.spiffe.svidHint;
    const svid: X509Svid | undefined = outcome.ok ? pickSvid(outcome.identity, hint) : undefined;
    const results = [
      checkWorkloadApi(outcome),
      checkSvid(outcome, hint, now),
      checkClockSkew(outcome, hint, now),
      checkBundles(outcome, hint, config.spiffe.trustDomain, now),
    ];
    const probe =
      config.auth === null
        ? undefined
        : await probeTokenKeys(config.auth, {
            identity: {
              getX509Svid: () => {
                if (svid === undefined) throw new Error('check: no SVID from the Workload API');
                return svid;
              },
            },
            fetchJwtBundles: () => client.fetchJwtBundles({ signal: AbortSignal.timeout(o.timeoutMs) }),
            clock: d.clock,
            timeoutMs: o.timeoutMs,
          });
    results.push(checkTokenKeys(config.auth, probe));
    return results;
  } finally {
    client.close();
  }
}

/**
 * Runs every check in order and returns their verdicts; never throws for
 * what it finds. Without `admin` the listener check tries to bind the
 * configured addresses (pre-flight); with it, the running sidecar's
 * /readyz and listeners are asked instead.
 */
export async function runChecks(o: CheckOptions, d: CheckDeps): Promise<CheckResult[]> {
  const { result, config } = checkConfig(o.config, o.env);
  const results: CheckResult[] = [result, await checkPolicies(config, d.lintPolicy)];
  results.push(...(await identityChecks(config, o, d)));
  if (o.admin !== undefined) {
    const shown = o.admin.origin;
    results.push(checkReadyz(await adminOutcome(o.admin, '/readyz', o.timeoutMs), shown));
    results.push(checkListenersLive(await liveListeners(o.admin, o.timeoutMs)));
  } else if (config !== undefined) {
    results.push(checkListenersPreflight(await trialBinds(config)));
  } else {
    results.push(skipped('listeners', 'no usable configuration'));
  }
  results.push(checkIptables(await d.natTable(), config));
  if (o.webhookCert !== undefined) results.push(checkWebhookCert(o.webhookCert, d.clock.now()));
  return results;
}
