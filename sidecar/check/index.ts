/**
 * check: `spiffe-sidecar check`, the pre-flight and live diagnosis of one
 * sidecar: configuration and policy files, the Workload API, the SVID and
 * its bundles, clock skew, token providers' keys, listeners (trial binds, or
 * a running sidecar's admin endpoint), the pod's redirect rules and the
 * webhook certificate. Each check is a small function returning a
 * CheckResult (ok / warn / fail, with the fix); runChecks gathers the
 * inputs and runs them in order.
 *
 * Top-level like runtime: it may use any module, and only the CLI uses it.
 * It must not change anything it inspects (no rules installed, no files
 * written, listeners bound only for an instant to test them), print, or
 * read process globals: the CLI passes the environment, uid and linter.
 */
export { allPassed, fail, ok, warn } from './check-result.ts';
export type { CheckResult } from './check-result.ts';
export { CheckError } from './check-error.ts';
export type { CheckErrorCode } from './check-error.ts';
export { parseAdminUrl } from './admin-client.ts';
export { checkConfig, checkPolicies, ENV_SOURCE } from './config-check.ts';
export type { ConfigInput, PolicyVerdict } from './config-check.ts';
export { checkBundles, checkClockSkew, checkSvid, checkWorkloadApi } from './identity-checks.ts';
export type { WorkloadApiOutcome } from './identity-checks.ts';
export { checkListenersLive, checkListenersPreflight, checkReadyz } from './listener-checks.ts';
export { listenersFromDebugConfig, trialBinds } from './listener-probes.ts';
export { checkIptables } from './iptables-check.ts';
export { readNatTable } from './nat-table.ts';
export { checkTokenKeys, probeTokenKeys } from './token-keys-check.ts';
export { checkWebhookCert } from './webhook-cert-check.ts';
export type { WebhookCertInput } from './webhook-cert-check.ts';
export { runChecks } from './run-checks.ts';
