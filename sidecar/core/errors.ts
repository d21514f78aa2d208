/**
 * Base error for everything spiffe-sidecar throws on purpose.
 *
 * `code` is a stable literal that callers and tests match on; it is API.
 * The message starts with the module that raised it ("spiffeid: ...") and
 * `cause` carries the underlying error when there is one.
 */
export class SidecarError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Returns the error's `code` when it is a SidecarError, else undefined. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof SidecarError ? err.code : undefined;
}

/** Best-effort one-line description of any thrown value, for logs and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
