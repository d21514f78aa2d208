/**
 * demo: the demo mesh behind `spiffe-sidecar demo` / `make demo`: the dev
 * agent, two small services and an intruder, each with a real sidecar
 * process, an authorization server for end users (in a checkout) with the
 * bank chain (edge, accounts, payments: token exchange at every hop), and
 * a scripted tour of what the sidecar enforces. Also the child
 * process and HTTP helpers the integration tests share with it.
 *
 * Top-level (may use any module, nothing but the CLI and tests use it). For
 * trying things out only; it must not read process globals: the CLI passes
 * the environment, node binary and stop signal in.
 */
export { runDemo } from './demo-mesh.ts';
export type { DemoOptions } from './demo-mesh.ts';
export { startBackendApp, startFrontendApp, callThroughFrontend, SPOOFED_ID, CUSTOMER_ID_HEADER } from './demo-apps.ts';
export type { BackendEcho, BackendUser, DemoApp, FrontendAnswer } from './demo-apps.ts';
export { SidecarProcess, metricValue } from './sidecar-process.ts';
export type { SidecarProcessOptions, LogLine, ExitStatus } from './sidecar-process.ts';
export { httpCall } from './http-call.ts';
export type { HttpCallOptions, HttpResult } from './http-call.ts';
export { freePorts } from './free-ports.ts';
