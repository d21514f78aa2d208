import { Counter, Gauge, type Registry } from 'prom-client';
import { BoundedLabel } from './label-values.ts';

/** Distinct policy rule names labelled individually on dry-run counters; later ones are `overflow`. */
const MAX_DRY_RUN_RULES = 64;
/** Distinct provider names labelled individually (they come from configuration, so this is a guard, not a limit). */
const MAX_PROVIDERS = 32;

/**
 * End-user identity metrics, on the sidecar's registry: token checks by
 * provider and result, key fetches and key-set age by provider,
 * introspection requests and cache hits, dry-run policy outcomes, and
 * local refusals by reason. Every label comes from configuration or a
 * closed set, and each is bounded.
 *
 * Implements the observer interfaces of sidecar/auth and
 * sidecar/enforcement structurally, so neither depends on metrics.
 */
export class AuthMetrics {
  readonly #tokens: Counter<'provider' | 'result'>;
  readonly #keyFetches: Counter<'provider' | 'result'>;
  readonly #keyAge: Gauge<'provider'>;
  readonly #introspection: Counter<'provider' | 'result'>;
  readonly #introspectionHits: Counter<'provider'>;
  readonly #dryRun: Counter<'rule' | 'outcome'>;
  readonly #refused: Counter<'reason'>;
  readonly #providers = new BoundedLabel(MAX_PROVIDERS);
  #keySets: (() => readonly { readonly provider: string; readonly fetchedAtMs: number | undefined }[]) | undefined;
  #now: () => number = Date.now;
  readonly #rules = new BoundedLabel(MAX_DRY_RUN_RULES);

  constructor(registry: Registry) {
    const registers = [registry];
    this.#tokens = new Counter({
      name: 'sidecar_token_checks_total',
      help: 'End-user tokens checked on inbound requests, by provider and result (valid, or the refusal reason).',
      labelNames: ['provider', 'result'],
      registers,
    });
    this.#keyFetches = new Counter({
      name: 'sidecar_token_key_fetches_total',
      help: 'Key-set fetches from token issuers, by provider and result.',
      labelNames: ['provider', 'result'],
      registers,
    });
    const metrics = this;
    this.#keyAge = new Gauge({
      name: 'sidecar_token_key_set_age_seconds',
      help: 'Age of the key set in use for each provider (grows while the issuer is unreachable and a stale set is kept).',
      labelNames: ['provider'],
      registers,
      // Read at scrape time, so the age grows between fetches instead of showing the last fetch's 0.
      collect() {
        metrics.#collectKeyAges(this);
      },
    });
    this.#introspection = new Counter({
      name: 'sidecar_token_introspection_requests_total',
      help: 'RFC 7662 introspection requests sent, by provider and result.',
      labelNames: ['provider', 'result'],
      registers,
    });
    this.#introspectionHits = new Counter({
      name: 'sidecar_token_introspection_cache_hits_total',
      help: 'Opaque tokens answered from the introspection cache, by provider.',
      labelNames: ['provider'],
      registers,
    });
    this.#dryRun = new Counter({
      name: 'sidecar_policy_dry_run_total',
      help: 'Dry-run policy rules that matched, by rule and what they would have done (not enforced).',
      labelNames: ['rule', 'outcome'],
      registers,
    });
    this.#refused = new Counter({
      name: 'sidecar_requests_refused_total',
      help: 'Inbound requests answered by the sidecar instead of the app, by reason.',
      labelNames: ['reason'],
      registers,
    });
  }

  /** Reports key-set ages from `status` at every scrape (the authenticator's `status()`). */
  trackKeySets(status: () => readonly { readonly provider: string; readonly fetchedAtMs: number | undefined }[], now: () => number): void {
    this.#keySets = status;
    this.#now = now;
  }

  #collectKeyAges(g: Gauge<'provider'>): void {
    if (this.#keySets === undefined) return;
    const now = this.#now();
    for (const s of this.#keySets()) {
      if (s.fetchedAtMs !== undefined) g.set({ provider: this.#providers.label(s.provider) }, Math.max(0, (now - s.fetchedAtMs) / 1000));
    }
  }

  /** EnforcementObserver: one token outcome. */
  tokenChecked(provider: string, result: string): void {
    this.#tokens.inc({ provider: this.#providers.label(provider), result });
  }

  /** EnforcementObserver: a dry-run rule matched. */
  dryRun(rule: string, outcome: 'would_allow' | 'would_deny'): void {
    this.#dryRun.inc({ rule: this.#rules.label(rule), outcome });
  }

  /** EnforcementObserver: a request answered locally. */
  refused(reason: string): void {
    this.#refused.inc({ reason });
  }

  /** AuthObserver: counted by {@link tokenChecked}, which sees every outcome including cache hits. */
  tokenValidated(): void {}

  /** AuthObserver: a key-set fetch finished. */
  keyFetch(provider: string, result: string): void {
    this.#keyFetches.inc({ provider: this.#providers.label(provider), result });
  }

  /** AuthObserver: the age of the key set in use (refreshed at scrape time when {@link trackKeySets} is set). */
  keySetAge(provider: string, seconds: number): void {
    this.#keyAge.set({ provider: this.#providers.label(provider) }, seconds);
  }

  /** IntrospectionObserver: an introspection request finished. */
  request(provider: string, result: string): void {
    this.#introspection.inc({ provider: this.#providers.label(provider), result });
  }

  /** IntrospectionObserver: a cache hit. */
  cacheHit(provider: string): void {
    this.#introspectionHits.inc({ provider: this.#providers.label(provider) });
  }
}
