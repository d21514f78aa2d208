import { quoteUntrusted, type SpiffeId } from '../spiffe/index.ts';
import { isHttpToken } from './http-method.ts';
import { normalizePath } from './normalize-path.ts';
import { ALLOW_ALL_RULE, type Policy } from './policy.ts';

/**
 * Why a request was denied; a small fixed set, safe as a metric label.
 * - `bad_path`: the request-target was refused by normalizePath (answer 400).
 * - `caller_not_listed`: no rule's `from` names the peer (answer 403).
 * - `no_matching_rule`: some rule names the peer, but none allows this
 *   method and path, or a plain TCP connection (answer 403).
 */
export type DenyReason = 'bad_path' | 'caller_not_listed' | 'no_matching_rule';

/** Every {@link DenyReason}, for pre-registering metric label values. */
export const DENY_REASONS: readonly DenyReason[] = Object.freeze(['bad_path', 'caller_not_listed', 'no_matching_rule']);

/** The outcome of {@link evaluate}. */
export type Decision =
  | {
      readonly allow: true;
      /** Name of the first rule that allowed the request (or ALLOW_ALL_RULE). */
      readonly rule: string;
      /**
       * The request-target the proxy must forward instead of the one it
       * received (normalised path + original query), so the app acts on
       * exactly the path that was authorized. undefined when no path was given.
       */
      readonly forwardTarget: string | undefined;
    }
  | {
      readonly allow: false;
      readonly reason: DenyReason;
      /** One line for logs; contains the peer ID and request, never secrets. Not for response bodies. */
      readonly detail: string;
    };

/** What {@link evaluate} looks at. Leave method and path out for TCP connections. */
export interface PolicyRequest {
  /** The authenticated peer, from its X509-SVID. */
  readonly peerId: SpiffeId;
  /** The HTTP method as received (case-sensitive). */
  readonly method?: string | undefined;
  /** The raw request-target as received (`req.url` or `:path`); normalised here. */
  readonly path?: string | undefined;
}

/**
 * Decides whether `policy` allows the request. Pure and never throws: a bad
 * path is a `bad_path` denial, not an exception. Default deny: rules only
 * allow, and a request no rule allows is denied. Rules are tried in order
 * and the first that allows names the decision.
 *
 * Requests carrying a path are normalised first (see normalizePath), with
 * every policy including allowAll, and an allowed decision says what to
 * forward. Without method and path (TCP) only rules without `to` can allow.
 */
export function evaluate(policy: Policy, request: PolicyRequest): Decision {
  const { peerId, method, path: rawPath } = request;
  let path: string | undefined;
  let forwardTarget: string | undefined;
  if (rawPath !== undefined) {
    const n = normalizePath(rawPath);
    if (!n.ok) return { allow: false, reason: 'bad_path', detail: `${n.reason}: ${quoteUntrusted(rawPath)}` };
    path = n.path;
    forwardTarget = n.forwardTarget;
  }
  if (policy.allowsAll) return { allow: true, rule: ALLOW_ALL_RULE, forwardTarget };

  const id = peerId.toString();
  const td = peerId.trustDomain.name;
  let callerListed = false;
  for (const rule of policy.rules) {
    if (!rule.callers.matchesParts(id, td)) continue;
    callerListed = true;
    if (rule.requests === null) return { allow: true, rule: rule.name, forwardTarget };
    for (const r of rule.requests) {
      if (r.matches(method, path)) return { allow: true, rule: rule.name, forwardTarget };
    }
  }
  if (!callerListed) return { allow: false, reason: 'caller_not_listed', detail: `no rule lists caller ${id}` };
  return { allow: false, reason: 'no_matching_rule', detail: `no rule allows ${id} ${describeRequest(method, path)}` };
}

function describeRequest(method: string | undefined, path: string | undefined): string {
  if (method === undefined && path === undefined) return 'a connection without an HTTP request (TCP)';
  const m = method === undefined ? '(no method)' : isHttpToken(method) ? method : quoteUntrusted(method);
  return `to ${m} ${path ?? '(no path)'}`;
}
