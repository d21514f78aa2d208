import { describeError, type Clock, type Logger } from '../core/index.ts';
import type { PolicySource } from '../config/index.ts';
import { parsePolicy, sameTrustDomainPolicy, type Policy, type PolicyContext } from '../policy/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import { AppError } from './app-error.ts';
import { PolicyFile } from './policy-file.ts';

/** Where a proxy reads the policy in force; called per request or per tunnel. */
export type PolicyProvider = () => Policy;

/** Options of {@link Policies}. */
export interface PoliciesOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Counts failed reloads (sidecar_policy_reload_errors_total). */
  readonly onReloadError: () => void;
  /** Our trust domain when configured; otherwise learnt from our SVID with {@link Policies.setTrustDomain}. */
  readonly trustDomain: TrustDomain | null;
  /** Poll interval of policy files besides change events (default 10 s). */
  readonly pollMs?: number;
}

/**
 * Files are kept per (path, context): one file used by HTTP inbound and by
 * a tunnel is parsed twice, so a request-level rule is refused for the
 * tunnel (it could never be checked there) and accepted for HTTP.
 */
function fileKey(path: string, context: PolicyContext): string {
  return `${context}:${path}`;
}

/** Until our trust domain is known, "same trust domain" admits nobody. */
const NOBODY: Policy = parsePolicy({ version: 1, rules: [] }, '(own trust domain not known yet)');

/**
 * Every policy the sidecar enforces: one watched {@link PolicyFile} per
 * distinct path (HTTP inbound and inbound tunnels may share one), and the
 * same-trust-domain default, rebuilt when our SVID's trust domain changes.
 */
export class Policies {
  readonly #o: PoliciesOptions;
  readonly #files = new Map<string, PolicyFile>();
  #sameTd: Policy = NOBODY;
  #td: TrustDomain | null = null;

  constructor(o: PoliciesOptions) {
    this.#o = o;
    if (o.trustDomain) this.#useTrustDomain(o.trustDomain);
  }

  /**
   * Loads every policy file among `sources`; throws one AppError
   * 'app.policy_file' naming each file that cannot be used.
   */
  async load(sources: readonly PolicySource[], context: PolicyContext = 'http'): Promise<void> {
    const paths = [...new Set(sources.flatMap((s) => (s.kind === 'file' ? [s.path] : [])))].filter((p) => !this.#files.has(fileKey(p, context)));
    const results = await Promise.allSettled(
      paths.map((path) =>
        PolicyFile.load({
          path,
          context,
          logger: this.#o.logger,
          clock: this.#o.clock,
          onReloadError: this.#o.onReloadError,
          ...(this.#o.pollMs !== undefined ? { pollMs: this.#o.pollMs } : {}),
        }),
      ),
    );
    const problems: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        this.#files.set(fileKey(paths[i]!, context), r.value);
        this.#o.logger.info({ path: r.value.path, rules: r.value.current().rules.length }, 'policy loaded');
      } else {
        problems.push(describeError(r.reason));
      }
    });
    if (problems.length === 1) throw results.find((r) => r.status === 'rejected')!.reason;
    if (problems.length > 1) throw new AppError('app.policy_file', `app: ${problems.length} policy files cannot be used:\n${problems.join('\n')}`);
  }

  /** The provider for one configured source; files must have been loaded. */
  provider(source: PolicySource, context: PolicyContext = 'http'): PolicyProvider {
    if (source.kind === 'sameTrustDomain') return () => this.#sameTd;
    const file = this.#files.get(fileKey(source.path, context));
    if (file === undefined) throw new AppError('app.policy_file', `app: policy file ${source.path} was not loaded`);
    return () => file.current();
  }

  /** Our SVID's trust domain; ignored when one is configured. */
  setTrustDomain(td: TrustDomain): void {
    if (this.#o.trustDomain) return;
    if (this.#td !== null && this.#td.name === td.name) return;
    if (this.#td !== null) this.#o.logger.warn({ from: this.#td.name, to: td.name }, 'own trust domain changed; same-trust-domain policy follows it');
    this.#useTrustDomain(td);
  }

  /** Starts watching every policy file. */
  watch(): void {
    for (const f of this.#files.values()) f.watch();
  }

  /** Re-reads every policy file now (normally the watchers do it). */
  async checkFiles(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.check()));
  }

  /** Stops watching. */
  close(): void {
    for (const f of this.#files.values()) f.close();
  }

  #useTrustDomain(td: TrustDomain): void {
    this.#td = td;
    this.#sameTd = sameTrustDomainPolicy(td);
  }
}
