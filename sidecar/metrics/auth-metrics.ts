import type { Gauge as PromGauge, Registry } from 'prom-client';
import Gauge from 'prom-client/lib/gauge.js';
import { BoundedLabel } from './label-values.ts';
import { PlainCounter } from './plain-series.ts';

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
 * sidecar/enforcement structurally, so neither depends on metrics. Token
 * checks and dry runs happen on every request, so the counters are plain
 * numbers handed to prom-client at scrape time (plain-series.ts).
 */
export class AuthMetrics {
  readonly #tokens: PlainCounter;
  readonly #keyFetches: PlainCounter;
  readonly #keyAge: PromGauge<'provider'>;
  readonly #introspection: PlainCounter;
  readonly #introspectionHits: PlainCounter;
  readonly #dryRun: PlainCounter;
  readonly #refused: PlainCounter;
  readonly #providers = new BoundedLabel(MAX_PROVIDERS);
  #keySets: (() => readonly { readonly provider: string; readonly fetchedAtMs: number | undefined }[]) | undefined;
  #now: () => number = Date.now;
  readonly #rules = new BoundedLabel(MAX_DRY_RUN_RULES);

  constructor(registry: Registry) {
    this.#tokens = new PlainCounter(registry, {
      name: 'sidecar_token_checks_total',
      help: 'End-user tokens checked on inbound requests, by provider and result (valid, or the refusal reason).',
      labelNames: ['provider', 'result'],
    });
    this.#keyFetches = new PlainCounter(registry, {
      name: 'sidecar_token_key_fetches_total',
      help: 'Key-set fetches from token issuers, by provider and result.',
      labelNames: ['provider', 'result'],
    });
    const metrics = this;
    this.#keyAge = new Gauge({
      name: 'sidecar_token_key_set_age_seconds',
      help: 'Age of the key set in use for each provider (grows while the issuer is unreachable and a stale set is kept).',
      labelNames: ['provider'],
      registers: [registry],
      // Read at scrape time, so the age grows between fetches instead of showing the last fetch's 0.
      collect() {
        metrics.#collectKeyAges(this);
      },
    });
    this.#introspection = new PlainCounter(registry, {
      name: 'sidecar_token_introspection_requests_total',
      help: 'RFC 7662 introspection requests sent, by provider and result.',
      labelNames: ['provider', 'result'],
    });
    this.#introspectionHits = new PlainCounter(registry, {
      name: 'sidecar_token_introspection_cache_hits_total',
      help: 'Opaque tokens answered from the introspection cache, by provider.',
      labelNames: ['provider'],
    });
    this.#dryRun = new PlainCounter(registry, {
      name: 'sidecar_policy_dry_run_total',
      help: 'Dry-run policy rules that matched, by rule and what they would have done (not enforced).',
      labelNames: ['rule', 'outcome'],
    });
    this.#refused = new PlainCounter(registry, {
      name: 'sidecar_requests_refused_total',
      help: 'Inbound requests answered by the sidecar instead of the app, by reason.',
      labelNames: ['reason'],
    });
  }

  /** Reports key-set ages from `status` at every scrape (the authenticator's `status()`). */
  trackKeySets(status: () => readonly { readonly provider: string; readonly fetchedAtMs: number | undefined }[], now: () => number): void {
    this.#keySets = status;
    this.#now = now;
  }

  #collectKeyAges(g: PromGauge<'provider'>): void {
    if (this.#keySets === undefined) return;
    const now = this.#now();
    for (const s of this.#keySets()) {
      if (s.fetchedAtMs !== undefined) g.set({ provider: this.#providers.label(s.provider) }, Math.max(0, (now - s.fetchedAtMs) / 1000));
    }
  }

  /** EnforcementObserver: one token outcome. */
  tokenChecked(provider: string, result: string): void {
    this.#tokens.at(this.#providers.label(provider), result).value += 1;
  }

  /** EnforcementObserver: a dry-run rule matched. */
  dryRun(rule: string, outcome: 'would_allow' | 'would_deny'): void {
    this.#dryRun.at(this.#rules.label(rule), outcome).value += 1;
  }

  /** EnforcementObserver: a request answered locally. */
  refused(reason: string): void {
    this.#refused.at(reason).value += 1;
  }

  /** AuthObserver: counted by {@link tokenChecked}, which sees every outcome including cache hits. */
  tokenValidated(): void {}

  /** AuthObserver: a key-set fetch finished. */
  keyFetch(provider: string, result: string): void {
    this.#keyFetches.at(this.#providers.label(provider), result).value += 1;
  }

  /** AuthObserver: the age of the key set in use (refreshed at scrape time when {@link trackKeySets} is set). */
  keySetAge(provider: string, seconds: number): void {
    this.#keyAge.set({ provider: this.#providers.label(provider) }, seconds);
  }

  /** IntrospectionObserver: an introspection request finished. */
  request(provider: string, result: string): void {
    this.#introspection.at(this.#providers.label(provider), result).value += 1;
  }

  /** IntrospectionObserver: a cache hit. */
  cacheHit(provider: string): void {
    this.#introspectionHits.at(this.#providers.label(provider)).value += 1;
  }
}
