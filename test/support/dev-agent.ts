/** Renamed to test/support/dev-agent-harness.ts (a name of its own beside sidecar/devagent/dev-agent.ts); this re-export keeps older importers working until they switch. */
export * from './dev-agent-harness.ts';
