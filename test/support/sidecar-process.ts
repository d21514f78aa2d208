/** Renamed to test/support/sidecar-harness.ts (a name of its own beside sidecar/demo/sidecar-process.ts); this re-export keeps older importers working until they switch. */
export * from './sidecar-harness.ts';
