/** Types of bin/build.js, for the TypeScript code that imports it (bench/, the bundle test). */

/** Builds the `spiffe-sidecar` bundle (entry main.js plus chunks) into `outdir` (default dist/bin), replacing it. */
export declare function buildBundle(outdir?: string): Promise<void>;
