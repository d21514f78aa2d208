/**
 * admin: the admin HTTP listener for probes and scrapes: /healthz, /readyz,
 * /metrics, and loopback-only /debug/svid and /debug/config.
 *
 * Must not carry application traffic, serve anything but GET/HEAD, or expose
 * private keys; it reads state only through the callbacks it is given.
 */
export { createAdminServer } from './admin-server.ts';
export type { AdminServer, AdminServerOptions, Readiness } from './admin-server.ts';
export { AdminError } from './admin-error.ts';
export { isLoopbackPeer } from './loopback-peer.ts';
