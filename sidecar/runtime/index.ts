/**
 * runtime: the pieces the composition root (sidecar/app.ts) wires together
 * that belong to no single module: the identity holder proxies read before
 * the first SVID, Workload API connection tracking, policy files watched
 * and reloaded from disk, and the /debug/svid view.
 *
 * Top-level like app.ts: it may use any module, and only app.ts, the CLI
 * and the demo use it. It must not read process globals (argv, env, exit).
 */
export { AppError } from './app-error.ts';
export type { AppErrorCode } from './app-error.ts';
export { IdentityHolder } from './identity-holder.ts';
export { ConnectionTrackingClient } from './connection-tracking-client.ts';
export { PolicyFile } from './policy-file.ts';
export type { PolicyFileOptions } from './policy-file.ts';
export { Policies } from './policies.ts';
export type { PoliciesOptions, PolicyProvider } from './policies.ts';
export { svidDebug } from './svid-debug.ts';
export type { SvidDebug } from './svid-debug.ts';
export { EndUserAuth, JwtBundleHolder } from './end-user-auth.ts';
export type { EndUserAuthDeps } from './end-user-auth.ts';
