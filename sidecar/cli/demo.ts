import { fileURLToPath } from 'node:url';
import { runDemo } from '../demo/index.ts';
import { UsageError, type Command } from './io.ts';
import { durationFlag } from './duration-flag.ts';
import { parseFlags } from './parse-flags.ts';

const HELP = `usage: spiffe-sidecar demo [--once] [--svid-ttl DURATION]

Starts a demo mesh on this machine: the embedded dev agent (trust domain
example.org), a frontend and a backend service, and an intruder, each with
its own sidecar process (spiffe-sidecar run). Shows an allowed call with the
caller identity the backend received, the intruder refused with 403, a
spoofed identity header replaced, end users' tokens from an authorization
server verified and authorized by their claims (in a checkout: oidc-provider
is a dev dependency), and an SVID rotation; then keeps running
with curl commands to try until Ctrl-C, which stops everything and removes
the temporary directory.

options:
  --once                run the scripted checks, stop, exit 0 if all passed (1 otherwise)
  --svid-ttl DURATION   SVID lifetime; SVIDs rotate at half of it (default 30s, at least 4s)
  -h, --help            show this help
`;

/** `spiffe-sidecar demo`: see {@link HELP}. */
export const demoCommand: Command = async (argv, io) => {
  const v = parseFlags(argv, { once: { type: 'boolean' }, 'svid-ttl': { type: 'string' } }).values;
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const svidTtlMs = v['svid-ttl'] === undefined ? 30_000 : durationFlag('--svid-ttl', v['svid-ttl']);
  if (svidTtlMs < 4_000) throw new UsageError(`--svid-ttl ${v['svid-ttl']}: must be at least 4s`);
  // The demo's sidecars run the same entry as this process (main.ts, the
  // launcher, or the bundle's main.js): this module's own URL names a
  // bundle chunk, not an entry (bin/build.js).
  const mainScript = process.argv[1] ?? fileURLToPath(new URL('./main.ts', import.meta.url));
  return runDemo({ out: io.stdout, env: io.env, stopSignal: io.stopSignal, once: v.once ?? false, svidTtlMs, execPath: process.execPath, mainScript });
};
