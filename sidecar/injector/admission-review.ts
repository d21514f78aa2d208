import { describeError, errorCode } from '../core/index.ts';
import { NAMESPACE_INJECT_LABEL } from './annotations.ts';
import { injectPod } from './inject-pod.ts';
import type { InjectionSettings } from './injection-settings.ts';
import { InjectorError } from './injector-error.ts';
import type { Json, JsonObject } from './json-patch.ts';
import { isJsonObject } from './pod-view.ts';

/** The only AdmissionReview version served; v1beta1 was removed in Kubernetes 1.22. */
export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** An HTTP answer for one POST, built without I/O so every case is unit-testable. */
export interface AdmissionAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** One-line outcome for the log: allowed/denied/patched/rejected and why. */
  readonly outcome: string;
  readonly uid?: string;
}

/** Options of {@link reviewAdmission}. */
export interface ReviewOptions {
  readonly settings: InjectionSettings;
  /**
   * Whether the request came through the webhook entry whose
   * namespaceSelector matches `spiffe-sidecar.io/inject=enabled`. An
   * AdmissionReview carries no namespace labels, so the webhook
   * configuration's selector is what tells us (see docs/kubernetes.md).
   */
  readonly namespaceInjection: boolean;
}

/** Kubernetes shows at most a few hundred characters of a warning; keep each short. */
const MAX_WARNING_CHARS = 250;

function warning(text: string): string {
  const w = `spiffe-sidecar: ${text}`;
  return w.length > MAX_WARNING_CHARS ? `${w.slice(0, MAX_WARNING_CHARS - 3)}...` : w;
}

function plain(status: number, text: string): AdmissionAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${text}\n`, outcome: `rejected (${status}): ${text}` };
}

function respond(uid: string, response: JsonObject, outcome: string): AdmissionAnswer {
  const body = { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, ...response } };
  return { status: 200, contentType: 'application/json', body: JSON.stringify(body), outcome, uid };
}

function deny(uid: string, code: number, message: string): AdmissionAnswer {
  return respond(uid, { allowed: false, status: { status: 'Failure', code, message } }, `denied (${code}): ${message}`);
}

/**
 * Answers one AdmissionReview request body. The cases (docs/kubernetes.md
 * "Malformed requests"):
 *
 * - Not JSON, not an admission.k8s.io/v1 AdmissionReview, no request or no
 *   request.uid → HTTP 400 with a text body: without a uid there is no
 *   response the API server could match, so this is a transport error and
 *   the webhook's failurePolicy decides.
 * - A request for something other than a core/v1 Pod (a misconfigured rule)
 *   → allowed with a warning: refusing would block every such object.
 * - Any operation but CREATE → allowed, unchanged.
 * - request.object missing or not pod-shaped → denied (400). A real API
 *   server never sends this; denying keeps a pod whose opt-in cannot be read
 *   from starting without its sidecar.
 * - A pod that asked for the sidecar with invalid annotations or clashing
 *   names → denied (422) with the problems, so `kubectl apply` shows them.
 * - Unexpected internal errors → HTTP 500, again leaving it to failurePolicy.
 */
export function reviewAdmission(body: string, opts: ReviewOptions): AdmissionAnswer {
  let review: Json;
  try {
    review = JSON.parse(body) as Json;
  } catch (err) {
    return plain(400, `injector: request body is not JSON (${describeError(err)})`);
  }
  if (!isJsonObject(review)) return plain(400, 'injector: request body must be a JSON object (an AdmissionReview)');
  if (review['apiVersion'] !== ADMISSION_API_VERSION || review['kind'] !== 'AdmissionReview') {
    return plain(400, `injector: expected apiVersion ${ADMISSION_API_VERSION} kind AdmissionReview, got ${JSON.stringify(review['apiVersion'])} ${JSON.stringify(review['kind'])} (set admissionReviewVersions: ["v1"])`);
  }
  const request = review['request'];
  if (!isJsonObject(request)) return plain(400, 'injector: AdmissionReview has no request object');
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid === '') return plain(400, 'injector: AdmissionReview request.uid must be a non-empty string');

  const kind = request['kind'];
  const isPod = isJsonObject(kind) && kind['group'] === '' && kind['version'] === 'v1' && kind['kind'] === 'Pod';
  if (!isPod) {
    const k = isJsonObject(kind) ? `${String(kind['group'] || 'core')}/${String(kind['version'])} ${String(kind['kind'])}` : 'an unknown kind';
    return respond(uid, { allowed: true, warnings: [warning(`ignored ${k}: only Pods are injected (check the webhook's rules)`)] }, `allowed: not a Pod (${k})`);
  }
  if (request['operation'] !== 'CREATE') {
    return respond(uid, { allowed: true }, `allowed: operation ${String(request['operation'])} is not injected`);
  }
  if (!isJsonObject(request['object'])) return deny(uid, 400, 'injector: request.object must be the Pod being created');

  try {
    const labels = opts.namespaceInjection ? { [NAMESPACE_INJECT_LABEL]: 'enabled' } : {};
    const result = injectPod(request['object'], { settings: opts.settings, namespaceLabels: labels });
    const warnings = result.warnings.map(warning);
    if (!result.patched) {
      return respond(uid, warnings.length > 0 ? { allowed: true, warnings } : { allowed: true }, `allowed: ${result.reason}`);
    }
    const response: JsonObject = {
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(result.patch), 'utf8').toString('base64'),
    };
    if (warnings.length > 0) response['warnings'] = warnings;
    return respond(uid, response, `patched: ${result.reason}`);
  } catch (err) {
    if (err instanceof InjectorError) {
      const code = err.code === 'injector.object_invalid' ? 400 : 422;
      return deny(uid, code, err.message);
    }
    return { ...plain(500, `injector: internal error: ${describeError(err)}`), uid, outcome: `error: ${errorCode(err) ?? String(err)}` };
  }
}
