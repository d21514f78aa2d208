/**
 * node:http, taken with `process.getBuiltinModule` rather than an ES
 * `import ... from 'node:http'`. An ES import of a built-in builds the
 * module's namespace by reading every export once, and node:http's
 * `WebSocket`, `MessageEvent` and `CloseEvent` are getters that load Node's
 * internal copy of undici: 14 MiB of RSS and 2.4 MiB of heap in every
 * sidecar, for classes it never uses (docs/benchmarks.md, "Memory and
 * start-up budget", step 6). Type-only imports of node:http are free.
 */
export const nodeHttp: typeof import('node:http') = process.getBuiltinModule('node:http');
