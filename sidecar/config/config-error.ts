import { SidecarError } from '../core/index.ts';

/** One thing wrong with the configuration: where (a dotted path or `env NAME`) and what. */
export interface ConfigProblem {
  /** `inbound.listen`, `outbound.upstreams[2].serverId`, `env SPIFFE_SIDECAR_LOG_LEVEL`, or `line 3, column 5` for YAML syntax. */
  readonly path: string;
  /** What is wrong, starting with the offending value when there is one. */
  readonly message: string;
}

/** 'config.invalid': the values break the schema; 'config.syntax': the file is not valid YAML. */
export type ConfigErrorCode = 'config.invalid' | 'config.syntax';

/**
 * Raised once per configuration with every problem found, so an operator
 * fixes them all in one round instead of one per restart.
 */
export class ConfigError extends SidecarError {
  declare readonly code: ConfigErrorCode;
  /** Every problem, in the order found. Never empty. */
  readonly problems: readonly ConfigProblem[];

  constructor(code: ConfigErrorCode, source: string, problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
    super(code, `config: ${source}: ${count}:\n${lines.join('\n')}`);
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ path: p.path, message: p.message })));
  }
}
