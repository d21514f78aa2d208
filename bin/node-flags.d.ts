/** Types of bin/node-flags.js, for the TypeScript code that imports it (bench/). */

/** The V8 flags `spiffe-sidecar run` runs with (see bin/node-flags.js for why). */
export declare const SIDECAR_NODE_FLAGS: readonly string[];

/** The flags of SIDECAR_NODE_FLAGS that neither `execArgv` nor `nodeOptions` (NODE_OPTIONS) sets already. */
export declare function missingNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[];

/** The environment `spiffe-sidecar run` runs with, read by the C library at start (see bin/node-flags.js for why). */
export declare const SIDECAR_ENV: Readonly<Record<string, string>>;

/** The entries of SIDECAR_ENV that `env` does not set already. */
export declare function missingEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string>;
