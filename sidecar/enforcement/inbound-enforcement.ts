import { describeError, silentLogger, type Logger } from '../core/index.ts';
import type { ContextHandles, TokenOutcome, VerifiedToken } from '../auth/index.ts';
import type { CallerIdentity, IdentityHeaders } from '../headers/index.ts';
import { evaluate, normalizePath, type Decision, type DenyReason, type DryRunResult, type Policy } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import { forwardedFor, type ForwardedFor } from './forwarded-for.ts';

/** The chain read when the policy trusts no forwarded hop. */
const NO_CHAIN: ForwardedFor = Object.freeze({ ok: true, addresses: Object.freeze([]) });
import { INBOUND_ANSWERS, INVALID_TOKEN_ANSWERS, type AnswerReason, type LocalAnswer } from './local-answer.ts';

/**
 * What the stage needs from the authentication side: the request's token
 * checked (synchronously when nothing must be fetched), and the headers
 * without the credential, for the app.
 */
export interface RequestAuthenticator {
  authenticate(headers: readonly string[], peerCertSha256Hex: string | undefined): TokenOutcome | Promise<TokenOutcome>;
  /** `headers` without every header or cookie a token may travel in (as configured). */
  withoutCredentials(headers: readonly string[]): string[];
}

/** Where connection decisions (TCP tunnels, opaque ports) are recorded, e.g. the audit log; `dst` names the target. */
export interface ConnectionDecisionSink {
  connectionDecided(peerId: SpiffeId, peerAddress: string | undefined, dst: string, decision: Decision): void;
}

/** Counters the stage reports to; bounded labels only. */
export interface EnforcementObserver {
  /** A token was checked: `result` is `valid` or the refusal reason. */
  tokenChecked(provider: string, result: string): void;
  /** A dry-run rule matched. */
  dryRun(rule: string, outcome: 'would_allow' | 'would_deny'): void;
  /** A request was refused locally. */
  refused(reason: AnswerReason): void;
}

const NO_OBSERVER: EnforcementObserver = Object.freeze({ tokenChecked() {}, dryRun() {}, refused() {} });

/**
 * The request as the stage sees it, and where it writes its outcome. The
 * proxy's per-request record implements it, so deciding allocates no
 * record of its own.
 */
export interface InboundRequest {
  readonly conn: {
    readonly peer: SpiffeId | undefined;
    readonly caller: CallerIdentity | undefined;
    readonly peerCertSha256Hex?: string | undefined;
    readonly peerAddress?: string | undefined;
  };
  readonly method: string;
  /** The request-target as received. */
  readonly path: string;
  /** `websocket` for an upgrade request, '' otherwise. */
  readonly upgrade: string;
  /** In: the request's raw headers. Out (allowed): the headers to forward. */
  headers: string[];
  /** Out (allowed): the normalised request-target the app must get. */
  target: string;
  /** Out: `allow` or `deny`. */
  decision: string;
  /** Out: the deciding policy rule, '' when none. */
  rule: string;
  /** Out: the verified user's `sub` and client, '' without a token. */
  subject: string;
  clientId: string;
  /** Out: the dry-run rules that matched, when any did (for the audit log). */
  dryRun?: readonly DryRunResult[] | undefined;
}

/** Options of {@link InboundEnforcement}. */
export interface InboundEnforcementOptions {
  /** The current policy; read per request, so a reload applies to the next one. */
  readonly policy: () => Policy;
  readonly headers: IdentityHeaders;
  /** End-user authentication; absent: tokens are not looked at and credentials pass through untouched. */
  readonly authenticator?: RequestAuthenticator | undefined;
  /** Keep the credential for the app (default false: the app gets verified identity headers, never the token). */
  readonly forwardToken?: boolean | undefined;
  /** WebSocket upgrades allowed (default false). */
  readonly webSocket?: boolean | undefined;
  /**
   * Context handles: each request with a verified JWT (or phantom JWT) gets
   * a fresh handle for it in this header (docs/end-user-identity.md). The
   * IdentityHeaders must strip the same header name. None when absent.
   */
  readonly contextHandles?: Pick<ContextHandles, 'header' | 'issue'> | undefined;
  readonly observer?: EnforcementObserver | undefined;
  /** Records each connection decision (the audit log); none when absent. */
  readonly connections?: ConnectionDecisionSink | undefined;
  readonly logger?: Logger | undefined;
}

const DENY_ANSWER: Readonly<Record<DenyReason, LocalAnswer>> = Object.freeze({
  bad_path: INBOUND_ANSWERS.bad_path,
  principal_required: INBOUND_ANSWERS.principal_required,
  denied_by_rule: INBOUND_ANSWERS.denied_by_rule,
  caller_not_listed: INBOUND_ANSWERS.caller_not_listed,
  no_matching_rule: INBOUND_ANSWERS.no_matching_rule,
});

/** The 400 for a path normalisation refused, naming the rule it broke (never echoing the path). */
function badPathAnswer(path: string): LocalAnswer {
  const n = normalizePath(path);
  const a = INBOUND_ANSWERS.bad_path;
  return n.ok ? a : { ...a, body: `${a.body}: ${n.reason}` };
}

/**
 * The one place an inbound request is authorized, for HTTP and TCP:
 * peer identity (already verified by TLS) → end-user token → policy →
 * identity headers. {@link decide} returns null when the request may go to
 * the app (having rewritten its headers and target), or the local answer
 * to send instead. It never throws and never lets a request through when
 * something could not be checked.
 */
export class InboundEnforcement {
  readonly #policy: () => Policy;
  readonly #headers: IdentityHeaders;
  readonly #auth: RequestAuthenticator | undefined;
  readonly #forwardToken: boolean;
  readonly #webSocket: boolean;
  readonly #handles: Pick<ContextHandles, 'header' | 'issue'> | undefined;
  readonly #observer: EnforcementObserver;
  readonly #connections: ConnectionDecisionSink | undefined;
  readonly #logger: Logger;

  constructor(o: InboundEnforcementOptions) {
    this.#policy = o.policy;
    this.#headers = o.headers;
    this.#auth = o.authenticator;
    this.#forwardToken = o.forwardToken === true;
    this.#webSocket = o.webSocket === true;
    this.#handles = o.contextHandles;
    this.#observer = o.observer ?? NO_OBSERVER;
    this.#connections = o.connections;
    this.#logger = (o.logger ?? silentLogger).child({ component: 'enforcement' });
  }

  /** Decides an HTTP request: null (forward it, `req` rewritten) or the answer to send. A promise only when a token needs I/O. */
  decide(req: InboundRequest): LocalAnswer | null | Promise<LocalAnswer | null> {
    if (req.conn.peer === undefined || req.conn.caller === undefined) {
      // Only verified connections reach the inbound stage; anything else is a wiring bug, refused.
      return this.#refuse(req, INBOUND_ANSWERS.caller_not_listed, 'no verified peer on the connection');
    }
    if (req.upgrade !== '' && !this.#webSocket) return this.#refuse(req, INBOUND_ANSWERS.upgrade_not_allowed, 'WebSocket not permitted');
    const auth = this.#auth;
    if (auth === undefined) return this.#authorize(req, undefined);
    let outcome: TokenOutcome | Promise<TokenOutcome>;
    try {
      outcome = auth.authenticate(req.headers, req.conn.peerCertSha256Hex);
    } catch (err) {
      return this.#authError(req, err);
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (o) => this.#afterToken(req, o),
        (err: unknown) => this.#authError(req, err),
      );
    }
    return this.#afterToken(req, outcome);
  }

  /**
   * Decides a plain TCP connection (no request, no token): only rules
   * without request-level conditions can allow it.
   */
  decideConnection(peerId: SpiffeId, peerAddress: string | undefined, dst = ''): Decision {
    const d = evaluate(this.#policy(), { peerId, peerAddress });
    this.#reportDryRun(d);
    if (!d.allow) this.#observer.refused(DENY_ANSWER[d.reason].reason);
    this.#connections?.connectionDecided(peerId, peerAddress, dst, d);
    return d;
  }

  #afterToken(req: InboundRequest, o: TokenOutcome): LocalAnswer | null {
    switch (o.kind) {
      case 'none':
        return this.#authorize(req, undefined);
      case 'valid':
        this.#observer.tokenChecked(o.token.provider, 'valid');
        return this.#authorize(req, o.token);
      case 'invalid':
        this.#observer.tokenChecked(o.provider, o.reason);
        return this.#refuse(req, INVALID_TOKEN_ANSWERS[o.reason] ?? INBOUND_ANSWERS.invalid_token, `${o.reason}: ${o.detail}`);
      case 'unavailable':
        this.#observer.tokenChecked(o.provider, o.reason);
        return this.#refuse(req, INBOUND_ANSWERS.token_unavailable, `${o.reason}: ${o.detail}`);
      case 'bad_request':
        return this.#refuse(req, o.reason === 'token_too_large' ? INBOUND_ANSWERS.token_too_large : INBOUND_ANSWERS.multiple_tokens, o.detail);
    }
  }

  #authorize(req: InboundRequest, token: VerifiedToken | undefined): LocalAnswer | null {
    const conn = req.conn;
    if (token !== undefined) {
      req.subject = token.subject;
      req.clientId = token.clientId;
    }
    const policy = this.#policy();
    // The claimed client chain is read only when the policy trusts forwarded
    // hops; otherwise no rule can look at it, and parsing it per request
    // would be wasted. A malformed chain is read as "no claimed client":
    // remoteIpBlocks can then never match, so a bad header can only lose
    // access, never gain it.
    const ff = (policy.remoteAddress?.trustedHops ?? 0) > 0 ? forwardedFor(req.headers) : NO_CHAIN;
    const d = evaluate(policy, {
      peerId: conn.peer!,
      method: req.method,
      path: req.path,
      principal: token,
      peerAddress: conn.peerAddress,
      forwardedFor: ff.ok ? ff.addresses : undefined,
    });
    this.#reportDryRun(d);
    // The decision's own array (shared, frozen when empty): no copy per request.
    if (d.dryRun.length > 0) req.dryRun = d.dryRun;
    if (!d.allow) {
      req.rule = d.rule ?? '';
      return this.#refuse(req, d.reason === 'bad_path' ? badPathAnswer(req.path) : DENY_ANSWER[d.reason], d.detail);
    }
    req.decision = 'allow';
    req.rule = d.rule;
    if (d.forwardTarget !== undefined) req.target = d.forwardTarget;
    let h = req.headers;
    if (this.#auth !== undefined && !this.#forwardToken) {
      h = this.#auth.withoutCredentials(h);
      // Phantom token: the app and the hops behind it get a JWT made from the
      // opaque token the client sent, never the opaque token itself.
      if (token?.kind === 'opaque' && token.jwt !== undefined) h.push('authorization', `Bearer ${token.jwt}`);
    }
    req.headers = this.#headers.inbound(h, conn.caller!, token);
    // Set after the strip above removed every copy the caller sent: only a handle we issued reaches the app.
    if (this.#handles !== undefined && token?.jwt !== undefined) {
      const handle = this.#handles.issue(token.jwt, token.expiresAtMs);
      if (handle !== undefined) req.headers.push(this.#handles.header, handle);
    }
    return null;
  }

  #reportDryRun(d: Decision): void {
    for (const r of d.dryRun) {
      this.#observer.dryRun(r.rule, r.outcome);
      this.#logger.debug({ rule: r.rule, outcome: r.outcome }, 'dry-run rule matched');
    }
  }

  #refuse(req: InboundRequest, answer: LocalAnswer, detail: string): LocalAnswer {
    req.decision = 'deny';
    this.#observer.refused(answer.reason);
    // The answer map says how loud (debug for routine denials: counted, and in the access log).
    this.#logger[answer.level]({ peer_id: req.conn.peer?.toString() ?? '', reason: answer.reason, detail }, 'request refused');
    return answer;
  }

  #authError(req: InboundRequest, err: unknown): LocalAnswer {
    // A bug in token checking must fail closed, and loudly.
    this.#logger.error({ err: describeError(err) }, 'token check failed unexpectedly; refusing the request');
    return this.#refuse(req, INBOUND_ANSWERS.token_unavailable, 'internal error in token check');
  }
}
