import { PeerIdMatcher, type PeerIdPattern } from './peer-id-pattern.ts';
import type { DryRunResult } from './decision.ts';
import { FromEntryMatcher, isCallerEntry, type FromEntry } from './from-entry-matcher.ts';
import { MATCH, NEEDS_PRINCIPAL, NO_MATCH, type MatchOutcome } from './match-outcome.ts';
import { RequestMatcher, type RequestEntry } from './request-matcher.ts';
import type { RequestView } from './request-view.ts';

/** What a rule does when it matches. */
export type RuleAction = 'allow' | 'deny';

/** A validated rule in document form (canonical spellings), as Policy.describe shows it. */
export interface RuleDocument {
  readonly name: string;
  /** Present only for deny rules (version 2); absent means allow. */
  readonly action?: 'deny';
  /** Present only when true (version 2): the rule is evaluated and reported, never enforced. */
  readonly dryRun?: true;
  readonly from: readonly FromEntry[];
  /** Absent: any request, and plain TCP connections. */
  readonly to?: readonly RequestEntry[];
}

/** One rule compiled for evaluation. */
export class CompiledRule {
  readonly name: string;
  readonly action: RuleAction;
  readonly dryRun: boolean;
  /** The `from` entries that name a SPIFFE ID and nothing else: set lookups, no allocation. */
  readonly callers: PeerIdMatcher;
  /** The other `from` entries (version 2 keys). */
  readonly entries: readonly FromEntryMatcher[];
  /** null when the rule has no `to`: any request, and TCP. */
  readonly requests: readonly RequestMatcher[] | null;
  /** What evaluation reports when this dry-run rule matches; built once. */
  readonly dryRunResult: DryRunResult;

  constructor(doc: RuleDocument) {
    this.name = doc.name;
    this.action = doc.action ?? 'allow';
    this.dryRun = doc.dryRun === true;
    this.callers = new PeerIdMatcher(doc.from.filter(isCallerEntry) as PeerIdPattern[]);
    this.entries = Object.freeze(doc.from.filter((e) => !isCallerEntry(e)).map((e) => new FromEntryMatcher(e)));
    this.requests = doc.to === undefined ? null : Object.freeze(doc.to.map((t) => new RequestMatcher(t)));
    this.dryRunResult = Object.freeze({ rule: doc.name, outcome: this.action === 'deny' ? 'would_deny' : 'would_allow' });
    Object.freeze(this);
  }

  /**
   * How the rule relates to the request: some `from` entry and some `to`
   * entry must match. NEEDS_PRINCIPAL when no token was presented and the
   * rule would match if one meeting its end-user conditions were.
   */
  match(view: RequestView): MatchOutcome {
    let from: MatchOutcome = NO_MATCH;
    if (this.callers.matchesParts(view.id, view.trustDomain)) {
      view.callerListed = true;
      from = MATCH;
    } else {
      const entries = this.entries;
      for (let i = 0; i < entries.length; i++) {
        const m = entries[i]!.match(view);
        if (m === MATCH) {
          from = MATCH;
          break;
        }
        if (m === NEEDS_PRINCIPAL) from = NEEDS_PRINCIPAL;
      }
    }
    if (from === NO_MATCH || this.requests === null) return from;
    let to: MatchOutcome = NO_MATCH;
    const requests = this.requests;
    for (let i = 0; i < requests.length; i++) {
      const m = requests[i]!.match(view.method, view.path, view.principal);
      if (m === MATCH) {
        to = MATCH;
        break;
      }
      if (m === NEEDS_PRINCIPAL) to = NEEDS_PRINCIPAL;
    }
    if (to === NO_MATCH) return NO_MATCH;
    return from === MATCH && to === MATCH ? MATCH : NEEDS_PRINCIPAL;
  }
}
