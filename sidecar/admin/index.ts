/**
 * admin: the admin HTTP listener for probes and scrapes: /healthz, /readyz,
 * /metrics, loopback-only /debug/svid, /debug/config, /debug/listeners and /debug/policy, and the kubelet's
 * rewritten app probes (/app-probe/<port><path>, configured ones only).
 *
 * Must not carry application traffic, forward anything but the configured
 * app probes, serve anything but GET/HEAD, or expose private keys; it reads
 * state only through the callbacks it is given.
 */
export { AdminServer, createAdminServer } from './admin-server.ts';
export type { Readiness } from './admin-routes.ts';
export { appProbePath } from './app-prober.ts';
