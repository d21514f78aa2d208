import { SidecarError } from '../core/index.ts';

/** The stable codes an {@link InjectorError} carries. */
export type InjectorErrorCode =
  /** A `spiffe-sidecar.io/*` annotation has a value the injector cannot use. */
  | 'injector.annotation_invalid'
  /** The object is not shaped like a Pod (or a workload with a pod template). */
  | 'injector.object_invalid'
  /** The pod already has a container or volume with one of the injector's names but was not injected by it. */
  | 'injector.name_conflict'
  /** The injection settings (flags) are invalid. */
  | 'injector.settings_invalid'
  /** A JSON patch could not be applied to the document it was made for. */
  | 'injector.patch_failed'
  /** A manifest for offline injection is not valid YAML. */
  | 'injector.yaml_invalid'
  /** The webhook's certificate or key could not be read or used. */
  | 'injector.certificate_invalid'
  /** The webhook could not listen. */
  | 'injector.listen_failed'
  /** The webhook server's start() was called again, or after stop(): it runs once. */
  | 'injector.already_started';

/**
 * Raised by the injector for input it refuses. The message starts with
 * "injector:" and, for several problems, lists one per line.
 */
export class InjectorError extends SidecarError {
  declare readonly code: InjectorErrorCode;
  /** One line per problem, without the "injector:" prefix. */
  readonly problems: readonly string[];

  constructor(code: InjectorErrorCode, problems: readonly string[], options?: { cause?: unknown }) {
    const text = problems.length === 1 ? problems[0]! : problems.map((p) => `\n  ${p}`).join('');
    super(code, `injector: ${text}`, options);
    this.problems = problems;
  }
}
