/**
 * The CLI's exit statuses, shared by every command and documented in
 * `spiffe-sidecar --help` and the README. Scripts and Kubernetes act on
 * them, so they are API.
 */
export const EXIT_OK = 0;
/** The command ran and failed: unreachable agent, invalid chain, policy problems, start-up failure. */
export const EXIT_FAILURE = 1;
/** Bad usage, an unusable configuration or policy, or an unsupported Node.js: fix the input and retry. */
export const EXIT_USAGE = 2;
/** An internal error (a bug); the value of sysexits.h EX_SOFTWARE. */
export const EXIT_INTERNAL = 70;

/** The help text's exit status section. */
export const EXIT_CODES_HELP = `exit status:
  0   success
  1   the command failed (agent unreachable, chain invalid, policy problems found, start-up failed)
  2   bad usage, an unusable configuration or policy file, or an unsupported Node.js
  70  internal error (a bug; please report it with the message)
`;
