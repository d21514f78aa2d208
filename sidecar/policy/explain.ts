import { quoteUntrusted } from '../spiffe/index.ts';
import { ClaimPath } from './claim-path.ts';
import type { ClaimCondition } from './claim-condition.ts';
import type { CompiledRule, RuleAction, RuleDocument } from './compiled-rule.ts';
import type { Decision } from './decision.ts';
import { evaluate } from './evaluate.ts';
import { FromEntryMatcher, type FromEntry } from './from-entry-matcher.ts';
import { formatIp } from './ip-address.ts';
import { MATCH, NEEDS_PRINCIPAL, NO_MATCH, type MatchOutcome } from './match-outcome.ts';
import { normalizePath } from './normalize-path.ts';
import type { Policy } from './policy.ts';
import type { PolicyPrincipal, PolicyRequest } from './policy-request.ts';
import { RequestMatcher, type RequestEntry } from './request-matcher.ts';
import { RequestView } from './request-view.ts';

/** How a condition, an entry or a rule relates to the request (see MatchOutcome). */
export type ExplainOutcome = 'match' | 'no_match' | 'needs_principal';

/** A key of a `from` entry that can fail. */
export type FromKey = 'id' | 'idPrefix' | 'trustDomain' | 'principals' | 'clients' | 'claims' | 'ipBlocks' | 'remoteIpBlocks';

/**
 * A condition of a `to` entry that can fail: the method list, each kind of
 * path condition, or a template whose shape fits the path but whose
 * claim-bound segments do not (`templateBinding`).
 */
export type ToKey = 'methods' | 'paths' | 'pathPrefixes' | 'pathTemplates' | 'templateBinding';

/** One condition that kept an entry from matching. */
export interface ConditionFailure<K extends string> {
  readonly key: K;
  /** `needs_principal`: it would be checked against an end-user token, and none was presented. */
  readonly outcome: 'no_match' | 'needs_principal';
  /** In words, e.g. `peer spiffe://example.org/web is not spiffe://example.org/api`. */
  readonly why: string;
}

/** One `from` or `to` entry of a rule and the conditions of it that failed (none when it matched). */
export interface EntryExplanation<K extends string> {
  /** Position in the rule's list. */
  readonly index: number;
  readonly outcome: ExplainOutcome;
  readonly failed: readonly ConditionFailure<K>[];
}

/** How one rule relates to the request. */
export interface RuleExplanation {
  readonly name: string;
  readonly action: RuleAction;
  readonly dryRun: boolean;
  /** True when the rule applies to the request (for a dry-run rule: it would have). */
  readonly matched: boolean;
  /** The rule's outcome from the compiled rule evaluate uses; `not_evaluated` when the request was refused before policy (bad path). */
  readonly outcome: ExplainOutcome | 'not_evaluated';
  /** True for the rule the decision names (the allowing rule, the matching deny rule, or the rule that needs a token). */
  readonly decided: boolean;
  /** One line per failed condition, `from[0].id: ...` / `to[1].methods: ...`; empty when the rule matched. */
  readonly why: readonly string[];
  readonly from: readonly EntryExplanation<FromKey>[];
  /** null when the rule has no `to` (any request, and TCP). */
  readonly to: readonly EntryExplanation<ToKey>[] | null;
}

/** What {@link explain} returns. */
export interface Explanation {
  /** Exactly what `evaluate(policy, request)` returns. */
  readonly decision: Decision;
  /** The normalised path policy matched; undefined for TCP or a refused path. */
  readonly path: string | undefined;
  /** The original client's address as the policy's `remoteAddress` settings resolve it, if any. */
  readonly remoteAddress: string | undefined;
  /** Every rule, in document order (none for the allow-all policy). */
  readonly rules: readonly RuleExplanation[];
}

const OUTCOME_NAMES: readonly ExplainOutcome[] = ['no_match', 'match', 'needs_principal'];

function outcomeName(m: MatchOutcome): ExplainOutcome {
  return OUTCOME_NAMES[m]!;
}

/**
 * Explains how `policy` decides `request`, for operators (`spiffe-sidecar
 * explain`): the decision, and for every rule whether it applies and, when
 * not, which `from` key or `to` condition failed. Pure; not for the
 * request path (it compiles a matcher per condition on every call).
 *
 * Why it cannot disagree with the sidecar: the decision is `evaluate`'s own
 * result, each rule's outcome comes from the compiled rule `evaluate` runs,
 * and each condition is judged by the same matcher classes built from that
 * one condition alone.
 */
export function explain(policy: Policy, request: PolicyRequest): Explanation {
  const decision = evaluate(policy, request);
  let path: string | undefined;
  if (request.path !== undefined) {
    const n = normalizePath(request.path);
    if (!n.ok) {
      const rules = policy.rules.map((r) => notEvaluated(r));
      return freeze({ decision, path: undefined, remoteAddress: undefined, rules });
    }
    path = n.path;
  }
  const view = new RequestView();
  view.reset(request, path, policy.remoteAddress);
  const docs = policy.describe().rules;
  const ctx: Context = { request, view, decision, remoteUnknown: remoteUnknownWhy(policy, request, view) };
  const rules = policy.rules.map((rule, i) => explainRule(rule, docs[i]!, ctx));
  const family = view.remoteFamily();
  const remoteAddress = family === 0 ? undefined : formatIp(family, view.remoteBytes);
  return freeze({ decision, path, remoteAddress, rules });
}

/** What every rule's explanation looks at. */
interface Context {
  readonly request: PolicyRequest;
  readonly view: RequestView;
  readonly decision: Decision;
  /** Why the original client's address is not known, in words. */
  readonly remoteUnknown: string;
}

/** Why `remoteIpBlocks` have no address to look at, following RemoteAddress's rules (RFC 7239 §8.1). */
function remoteUnknownWhy(policy: Policy, request: PolicyRequest, view: RequestView): string {
  const r = policy.remoteAddress;
  if (r === undefined) return "the policy has no remoteAddress settings, so the original client's address is never known";
  if (!r.trusts(view.id, view.trustDomain)) return `peer ${view.id} is not in remoteAddress.trustedCallers, so its forwarding headers are not believed`;
  if (r.trustedHops === 0) return 'remoteAddress.trustedHops is 0 (the peer address is the client), and the request has no usable peer address';
  const n = request.forwardedFor?.length ?? 0;
  if (n < r.trustedHops) return `the request lists ${n} forwarded address${n === 1 ? '' : 'es'}; remoteAddress.trustedHops needs at least ${r.trustedHops}`;
  return `forwarded entry ${r.trustedHops} from the right is not an IP address`;
}

function freeze(e: Explanation): Explanation {
  return Object.freeze(e);
}

function notEvaluated(rule: CompiledRule): RuleExplanation {
  return {
    name: rule.name,
    action: rule.action,
    dryRun: rule.dryRun,
    matched: false,
    outcome: 'not_evaluated',
    decided: false,
    why: ['not evaluated: the request path was refused before policy'],
    from: [],
    to: null,
  };
}

function explainRule(rule: CompiledRule, doc: RuleDocument, ctx: Context): RuleExplanation {
  const { view, decision } = ctx;
  const outcome = rule.match(view);
  const from = doc.from.map((e, i) => explainFrom(e, i, ctx));
  const to = doc.to === undefined ? null : doc.to.map((e, i) => explainTo(e, i, view));
  const why: string[] = [];
  if (outcome !== MATCH) {
    if (!from.some((e) => e.outcome === 'match')) pushFailures(why, 'from', from);
    if (to !== null && !to.some((e) => e.outcome === 'match')) pushFailures(why, 'to', to);
  }
  const decided = decision.rule === rule.name && !rule.dryRun && (decision.allow || decision.reason === 'denied_by_rule' || decision.reason === 'principal_required');
  return { name: rule.name, action: rule.action, dryRun: rule.dryRun, matched: outcome === MATCH, outcome: outcomeName(outcome), decided, why, from, to };
}

function pushFailures<K extends string>(out: string[], list: string, entries: readonly EntryExplanation<K>[]): void {
  for (const e of entries) for (const f of e.failed) out.push(`${list}[${e.index}].${f.key}: ${f.why}`);
}

// ---- from entries ----------------------------------------------------------

/** The single-key entries a `from` entry is made of, in the order FromEntryMatcher checks them. */
function fromConditions(e: FromEntry): Array<[FromKey, FromEntry]> {
  const out: Array<[FromKey, FromEntry]> = [];
  if (e.id !== undefined) out.push(['id', { id: e.id }]);
  if (e.idPrefix !== undefined) out.push(['idPrefix', { idPrefix: e.idPrefix }]);
  if (e.trustDomain !== undefined) out.push(['trustDomain', { trustDomain: e.trustDomain }]);
  if (e.ipBlocks !== undefined) out.push(['ipBlocks', { ipBlocks: e.ipBlocks }]);
  if (e.remoteIpBlocks !== undefined) out.push(['remoteIpBlocks', { remoteIpBlocks: e.remoteIpBlocks }]);
  if (e.principals !== undefined) out.push(['principals', { principals: e.principals }]);
  if (e.clients !== undefined) out.push(['clients', { clients: e.clients }]);
  for (const c of e.claims ?? []) out.push(['claims', { claims: [c] }]);
  return out;
}

function explainFrom(e: FromEntry, index: number, ctx: Context): EntryExplanation<FromKey> {
  const view = ctx.view;
  const outcome = new FromEntryMatcher(e).match(view);
  const failed: ConditionFailure<FromKey>[] = [];
  for (const [key, single] of fromConditions(e)) {
    const m = new FromEntryMatcher(single).match(view);
    if (m === MATCH) continue;
    failed.push({ key, outcome: m === NEEDS_PRINCIPAL ? 'needs_principal' : 'no_match', why: m === NEEDS_PRINCIPAL ? NO_TOKEN : fromWhy(key, single, ctx) });
  }
  return { index, outcome: outcomeName(outcome), failed };
}

const NO_TOKEN = 'needs an end-user token, and none was presented';

function fromWhy(key: FromKey, e: FromEntry, ctx: Context): string {
  const view = ctx.view;
  const p = view.principal;
  switch (key) {
    case 'id':
      return `peer ${view.id} is not ${e.id!}`;
    case 'idPrefix':
      return `peer ${view.id} is not under ${e.idPrefix!}`;
    case 'trustDomain':
      return `peer's trust domain ${view.trustDomain} is not ${e.trustDomain!}`;
    case 'ipBlocks': {
      const family = view.peerFamily();
      const a = ctx.request.peerAddress;
      if (family === 0) return a === undefined ? 'the request has no peer address' : `peer address ${quoteUntrusted(a, 64)} is not an IP address`;
      return `peer address ${formatIp(family, view.peerBytes)} is not in ${list(e.ipBlocks!)}`;
    }
    case 'remoteIpBlocks': {
      const family = view.remoteFamily();
      if (family === 0) return ctx.remoteUnknown;
      return `client address ${formatIp(family, view.remoteBytes)} is not in ${list(e.remoteIpBlocks!)}`;
    }
    case 'principals':
      if (p!.subject === '' || p!.issuer === '') return "the token has no issuer or subject, so no principal pattern matches";
      return `user ${quoteUntrusted(`${p!.issuer}/${p!.subject}`, 128)} is not one of ${list(e.principals!)}`;
    case 'clients':
      if (p!.clientId === '') return 'the token names no client (no client_id or azp)';
      return `client ${quoteUntrusted(p!.clientId, 128)} is not one of ${list(e.clients!)}`;
    case 'claims':
      return claimWhy(e.claims![0]!, p!);
  }
}

function claimWhy(c: ClaimCondition, p: PolicyPrincipal): string {
  const parsed = ClaimPath.parse(c.claim);
  const value: unknown = c.claim === 'scope' ? p.scopes : parsed.ok ? parsed.path.read(p.claims) : undefined;
  const wanted = 'equals' in c ? `equals ${show(c.equals)}` : 'anyOf' in c ? `is one of [${c.anyOf.map(show).join(', ')}]` : `contains ${show(c.contains)}`;
  return `claim ${c.claim} is ${show(value)}; the rule needs it ${wanted}`;
}

/** A claim value for a message: scalars as JSON (strings escaped), anything else by its kind. */
function show(v: unknown): string {
  if (v === undefined) return 'absent';
  if (typeof v === 'string') return quoteUntrusted(v, 64);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) {
    const shown = v.slice(0, 8).map(show);
    if (v.length > 8) shown.push(`... ${v.length - 8} more`);
    return `[${shown.join(', ')}]`;
  }
  return 'an object';
}

function list(values: readonly string[]): string {
  const shown = values.slice(0, 8).map((v) => (/^[\x21-\x7e]*$/.test(v) ? v : quoteUntrusted(v, 64)));
  if (values.length > 8) shown.push(`... ${values.length - 8} more`);
  return `[${shown.join(', ')}]`;
}

// ---- to entries ------------------------------------------------------------

function explainTo(e: RequestEntry, index: number, view: RequestView): EntryExplanation<ToKey> {
  const { method, path, principal } = view;
  const outcome = new RequestMatcher(e).match(method, path, principal);
  const failed: ConditionFailure<ToKey>[] = [];
  if (e.methods !== undefined && new RequestMatcher({ methods: e.methods }).match(method, path, principal) !== MATCH) {
    const m = method === undefined ? 'the request has no method (a TCP connection)' : `method ${quoteUntrusted(method, 32)} is not one of ${list(e.methods)}`;
    failed.push({ key: 'methods', outcome: 'no_match', why: m });
  }
  const pathFailures = explainPath(e, path, principal);
  if (pathFailures !== undefined) failed.push(...pathFailures);
  return { index, outcome: outcomeName(outcome), failed };
}

/** The failures of the entry's path condition (any one kind matching is enough), or undefined when it holds. */
function explainPath(e: RequestEntry, path: string | undefined, principal: PolicyPrincipal | undefined): ConditionFailure<ToKey>[] | undefined {
  if (e.paths === undefined && e.pathPrefixes === undefined && e.pathTemplates === undefined) return undefined;
  const failed: ConditionFailure<ToKey>[] = [];
  const shown = path === undefined ? 'the request has no path (a TCP connection)' : `path ${path}`;
  if (e.paths !== undefined) {
    if (new RequestMatcher({ paths: e.paths }).match(undefined, path, principal) === MATCH) return undefined;
    failed.push({ key: 'paths', outcome: 'no_match', why: `${shown} is not one of ${list(e.paths)} (entries ending in "/" are prefixes)` });
  }
  if (e.pathPrefixes !== undefined) {
    if (new RequestMatcher({ pathPrefixes: e.pathPrefixes }).match(undefined, path, principal) === MATCH) return undefined;
    failed.push({ key: 'pathPrefixes', outcome: 'no_match', why: `${shown} is not under ${list(e.pathPrefixes)}` });
  }
  for (const t of e.pathTemplates ?? []) {
    const single = new RequestMatcher({ pathTemplates: [t] });
    const m = single.match(undefined, path, principal);
    if (m === MATCH) return undefined;
    // The template's shape alone: what it gives without a principal, where bound segments are not compared.
    const shape = path === undefined ? NO_MATCH : single.match(undefined, path, undefined);
    if (shape === NO_MATCH) failed.push({ key: 'pathTemplates', outcome: 'no_match', why: `${shown} does not fit template ${t}` });
    else if (m === NEEDS_PRINCIPAL) failed.push({ key: 'templateBinding', outcome: 'needs_principal', why: `${shown} fits template ${t}, whose claim-bound segments ${NO_TOKEN}` });
    else failed.push({ key: 'templateBinding', outcome: 'no_match', why: `${shown} fits template ${t}, but a claim-bound segment does not equal the token's claim` });
  }
  return failed;
}
