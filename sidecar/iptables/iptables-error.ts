import { SidecarError } from '../core/index.ts';

/** The stable codes an {@link IptablesError} carries. */
export type IptablesErrorCode =
  /** Options that would produce wrong or conflicting rules. */
  | 'iptables.options_invalid'
  /** An iptables command exited non-zero while applying; the rules were rolled back. */
  | 'iptables.command_failed'
  /** The iptables binary could not be started. */
  | 'iptables.not_found';

/** Raised by the iptables module; the message starts with "iptables:". */
export class IptablesError extends SidecarError {
  declare readonly code: IptablesErrorCode;

  constructor(code: IptablesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `iptables: ${message}`, options);
  }
}
