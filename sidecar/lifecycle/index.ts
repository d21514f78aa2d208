/**
 * lifecycle: the running sidecar's life and what it keeps current while it
 * runs, as the composition root (sidecar/app.ts) wires them: the lifecycle
 * states and listener slots, the Workload API link, the SVID watch that feeds the
 * credentials home (sidecar/tls Credentials), the identity holder that
 * stands in before the first SVID, policy files watched and reloaded from
 * disk, and the /debug/svid view.
 *
 * Top-level like app.ts: it may use any module, and only app.ts, the CLI
 * and the demo use it. It must not read process globals (argv, env, exit).
 */
export { AppError } from './app-error.ts';
export type { AppErrorCode } from './app-error.ts';
export { IdentityHolder } from './identity-holder.ts';
export { ListenerSlot } from './listener-slot.ts';
export type { ListenerState, SlotStage } from './listener-slot.ts';
export { SidecarLifecycle } from './sidecar-lifecycle.ts';
export type { LifecycleState } from './sidecar-lifecycle.ts';
export { SvidWatch } from './svid-watch.ts';
export type { SvidWatchDeps } from './svid-watch.ts';
export { WorkloadLink } from './workload-link.ts';
export type { WorkloadLinkOptions } from './workload-link.ts';
export { ConnectionTrackingClient } from './connection-tracking-client.ts';
export { PolicyFile } from './policy-file.ts';
export type { PolicyFileOptions } from './policy-file.ts';
export { Policies } from './policies.ts';
export type { PoliciesOptions, PolicyProvider } from './policies.ts';
export { svidDebug } from './svid-debug.ts';
export type { SvidDebug } from './svid-debug.ts';
export { EndUserAuth, JwtBundleHolder } from './end-user-auth.ts';
export type { EndUserAuthDeps } from './end-user-auth.ts';
