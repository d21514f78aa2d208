/**
 * demo: the demo mesh behind `spiffe-sidecar demo` / `make demo`: the dev
 * agent, two small services and an intruder, each with a real sidecar
 * process, an authorization server for end users (in a checkout) with the
 * bank chain (edge, accounts, payments: token exchange at every hop), and
 * a scripted tour of what the sidecar enforces. Its sidecar process
 * harness and HTTP helpers are also what sidecar/testing.ts offers tests.
 *
 * Top-level (may use any module, nothing but the CLI and sidecar/testing.ts
 * use it). For trying things out only; it must not read process globals:
 * the CLI passes the environment, node binary and stop signal in.
 */
export { runDemo } from './demo-mesh.ts';
export { SidecarProcess, metricValue } from './sidecar-process.ts';
export type { SidecarProcessOptions, LogLine, ExitStatus } from './sidecar-process.ts';
export { httpCall } from './http-call.ts';
export type { HttpCallOptions, HttpResult } from './http-call.ts';
export { freePorts } from './free-ports.ts';
