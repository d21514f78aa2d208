/** Safe methods (RFC 9110 §9.2.1): resending one after a reset cannot change the app's state. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** What the policy reads of a request. */
export interface ResendCandidate {
  readonly method: string;
  readonly hasBody: boolean;
  /** `websocket` for an upgrade request, '' otherwise. */
  readonly upgrade: string;
}

/**
 * Whether a request whose upstream failed before any response may be sent
 * again. Never one with a body (it was streamed and cannot be replayed) or
 * an upgrade. `unprocessed`: the upstream is known not to have processed it
 * (REFUSED_STREAM, RFC 9113 §8.7), so any method may go again; otherwise (a
 * reused HTTP/1.1 connection closed before answering) only safe methods,
 * which RFC 9110 §9.2.2 lets a client retry automatically. The caller adds
 * the per-request rules: once, and only while nothing went downstream.
 */
export function mayResend(req: ResendCandidate, unprocessed: boolean): boolean {
  if (req.hasBody || req.upgrade !== '') return false;
  return unprocessed || SAFE_METHODS.has(req.method);
}
