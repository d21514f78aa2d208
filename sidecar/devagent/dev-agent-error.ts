import { SidecarError } from '../core/index.ts';

/** Stable codes of {@link DevAgentError}. */
export type DevAgentErrorCode =
  /** The options are invalid; the message lists every problem. */
  | 'devagent.bad_config'
  /** A method named a socket path or trust domain the agent does not serve. */
  | 'devagent.unknown'
  /** The agent was stopped. */
  | 'devagent.stopped'
  /** A file in the state directory (or the directory itself) is corrupt, mismatched or not private; the message names it. */
  | 'devagent.bad_state'
  /** The state directory or a file in it could not be written. */
  | 'devagent.state_unwritable';

/** Errors of the dev agent's own API (not the gRPC statuses it serves). */
export class DevAgentError extends SidecarError {
  declare readonly code: DevAgentErrorCode;

  constructor(code: DevAgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `devagent: ${message}`, options);
  }
}
