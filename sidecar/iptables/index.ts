/**
 * iptables: the pod's traffic redirection. A pure planner turns port and
 * CIDR choices into the exact iptables and ip6tables commands (nat table,
 * chains SPIFFE_SIDECAR_INBOUND / _REDIRECT / _OUTPUT, the same for both
 * families); a small runner applies or removes them with execFile,
 * idempotently.
 *
 * Must not use a shell, touch any chain but its own (apart from one jump
 * each from PREROUTING and OUTPUT), or depend on anything but `core`. It
 * runs in the init container as root, before any app code.
 */
export { planIptables, planIptablesClean, CHAINS } from './plan-iptables.ts';
export { validateIptablesOptions, DEFAULT_IPTABLES_OPTIONS } from './iptables-options.ts';
export type { IptablesOptions } from './iptables-options.ts';
export { applyIptables, cleanIptables, execFileRunner } from './iptables-runner.ts';
export type { CommandResult, CommandRunner } from './iptables-runner.ts';
export { IptablesError } from './iptables-error.ts';
export type { IptablesErrorCode } from './iptables-error.ts';
