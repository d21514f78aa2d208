/**
 * spiffe-sidecar/testing: what tests of code built on the library, or on
 * the sidecar, need and production code must not: a clock the test moves
 * by hand, and a harness that runs `spiffe-sidecar run` as a child process
 * (its log lines, admin requests, readiness, a clean stop) with the small
 * HTTP and port helpers that go with it. This project's own integration
 * tests use it through test/support/sidecar-harness.ts.
 *
 * Nothing here is used by the sidecar itself, apart from the demo, which
 * starts its sidecars with the same harness.
 */
export { ManualClock } from './core/index.ts';
export { SidecarProcess, metricValue, httpCall, freePorts } from './demo/index.ts';
export type { SidecarProcessOptions, LogLine, ExitStatus, HttpCallOptions, HttpResult } from './demo/index.ts';
