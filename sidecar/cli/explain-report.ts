import { INBOUND_ANSWERS } from '../enforcement/index.ts';
import type { Explanation, Policy, PolicyRequest, RuleExplanation } from '../policy/index.ts';
import { terminalSafe } from './problem-report.ts';

/** What the sidecar does with the request: forwards it, answers it itself, or closes the connection. */
export interface ExplainedAnswer {
  /** The status the sidecar answers with itself; null when the app answers (allowed) or for TCP. */
  readonly status: number | null;
  /** In words: `forwarded to the app`, the local answer's body, or `connection closed`. */
  readonly text: string;
}

/** True for an HTTP request, false for a TCP connection (neither method nor path), as evaluate tells them apart. */
function isHttp(request: PolicyRequest): boolean {
  return request.method !== undefined || request.path !== undefined;
}

/**
 * What the inbound sidecar answers for the decision, from the one map of
 * local answers the enforcement stage uses (sidecar/enforcement/local-answer.ts).
 */
export function answerFor(e: Explanation, request: PolicyRequest): ExplainedAnswer {
  const d = e.decision;
  if (d.allow) return { status: null, text: isHttp(request) ? 'forwarded to the app' : 'connection joined to the app' };
  if (!isHttp(request)) return { status: null, text: 'connection closed' };
  const a = INBOUND_ANSWERS[d.reason];
  return { status: a.status, text: a.body };
}

/** The `--output json` document (one line). */
export function explainJson(e: Explanation, request: PolicyRequest, policy: Policy): string {
  const d = e.decision;
  const answer = answerFor(e, request);
  const p = request.principal;
  const doc = {
    decision: d.allow ? 'allow' : 'deny',
    reason: d.allow ? null : d.reason,
    rule: d.rule ?? null,
    detail: d.allow ? null : d.detail,
    status: answer.status,
    answer: answer.text,
    request: {
      caller: request.peerId.toString(),
      method: request.method ?? null,
      path: request.path ?? null,
      normalizedPath: e.path ?? null,
      forwardTarget: d.allow ? (d.forwardTarget ?? null) : null,
      peerAddress: request.peerAddress ?? null,
      forwardedFor: request.forwardedFor ?? [],
      remoteAddress: e.remoteAddress ?? null,
      user: p === undefined ? null : { issuer: p.issuer, subject: p.subject, clientId: p.clientId, scopes: p.scopes },
    },
    policy: { source: policy.source, version: policy.version, allowAll: policy.allowsAll, rules: policy.rules.length },
    dryRun: d.dryRun,
    rules: e.rules,
  };
  return `${JSON.stringify(doc)}\n`;
}

const OUTCOME_WORDS: Readonly<Record<RuleExplanation['outcome'], string>> = {
  match: 'match',
  no_match: 'no match',
  needs_principal: 'needs token',
  not_evaluated: 'not evaluated',
};

/** The text report: the decision and what the sidecar answers, the request as policy saw it, then every rule. */
export function explainText(e: Explanation, request: PolicyRequest, policy: Policy): string {
  const d = e.decision;
  const answer = answerFor(e, request);
  const lines: string[] = [];
  const what = answer.status === null ? answer.text : `answered ${answer.status} "${answer.text}"`;
  lines.push(d.allow ? `decision:  allow, by rule ${d.rule}: ${what}` : `decision:  deny (${d.reason}): ${what}`);
  if (!d.allow) {
    if (d.rule !== undefined) lines.push(`rule:      ${d.rule}`);
    lines.push(`detail:    ${d.detail}`);
  }
  const target = request.method === undefined && request.path === undefined ? 'a TCP connection' : `${request.method ?? '(no method)'} ${request.path ?? '(no path)'}`;
  lines.push(`request:   ${request.peerId.toString()} ${target}`);
  if (e.path !== undefined) {
    const forwarded = d.allow && d.forwardTarget !== undefined && d.forwardTarget !== e.path ? `; forwarded as ${d.forwardTarget}` : '';
    lines.push(`path:      ${e.path} (normalised${forwarded})`);
  }
  const p = request.principal;
  if (p !== undefined) {
    const parts = [`iss ${p.issuer}`, p.subject === '' ? 'no sub' : `sub ${p.subject}`];
    if (p.clientId !== '') parts.push(`client ${p.clientId}`);
    if (p.scopes.length > 0) parts.push(`scopes ${p.scopes.join(' ')}`);
    lines.push(`user:      ${parts.join(', ')}`);
  } else {
    lines.push('user:      no end-user token');
  }
  if (request.peerAddress !== undefined) lines.push(`peer:      ${request.peerAddress}`);
  if (e.remoteAddress !== undefined) lines.push(`client:    ${e.remoteAddress} (as remoteAddress resolves it)`);
  const count = policy.rules.length === 1 ? '1 rule' : `${policy.rules.length} rules`;
  lines.push(`policy:    ${policy.source} (${policy.allowsAll ? 'allows every authenticated peer' : `version ${policy.version}, ${count}`})`);
  for (const r of d.dryRun) lines.push(`dry run:   ${r.rule} ${r.outcome}`);
  if (e.rules.length > 0) lines.push('', 'rules:');
  const width = Math.min(32, Math.max(...e.rules.map((r) => r.name.length)));
  for (const r of e.rules) {
    const kind = r.dryRun ? `${r.action}, dry run` : r.action;
    const mark = r.decided ? '  <- decided' : r.dryRun && r.matched ? `  <- ${r.action === 'deny' ? 'would deny' : 'would allow'}` : '';
    lines.push(`  ${OUTCOME_WORDS[r.outcome].padEnd(13)} ${r.name.padEnd(width)}  (${kind})${mark}`);
    for (const why of r.why) lines.push(`                ${why}`);
  }
  return lines.map(terminalSafe).join('\n') + '\n';
}
