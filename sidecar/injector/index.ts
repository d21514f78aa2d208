/**
 * injector: adds the spiffe-sidecar to Kubernetes pods. The pure core turns
 * a pod (or a workload's pod template) into an RFC 6902 JSON patch:
 * opt-in rules, the native or fallback sidecar container, the iptables init
 * container, the Workload API volume, probe rewriting. Thin servers on top:
 * the HTTPS admission webhook and offline injection of YAML manifests.
 *
 * Must not talk to the Kubernetes API, read process state or the clock
 * outside the webhook server, and must not depend on the proxy or identity
 * code: it only writes manifests (imports `core` only).
 */
export { injectPod, injectPodTemplate, injectionDecision } from './inject-pod.ts';
export type { InjectOptions, InjectResult } from './inject-pod.ts';
export { injectWorkload, podTemplatePath, POD_TEMPLATE_PATHS } from './inject-workload.ts';
export type { WorkloadInjectResult } from './inject-workload.ts';
export { injectionSettings, DEFAULT_INJECTION_SETTINGS } from './injection-settings.ts';
export type { InjectionSettings, ResourceSettings } from './injection-settings.ts';
export { ANNOTATIONS, NAMESPACE_INJECT_LABEL, PROMETHEUS_ANNOTATIONS, INJECTED_NAMES, MOUNT_PATHS, CONFIGMAP_KEYS } from './annotations.ts';
export {
  parsePort,
  parsePortList,
  parsePortsOrAll,
  parseIpv4CidrList,
  parseCidrList,
  parseBoolean,
  parseLogLevel,
  parseQuantity,
  parseConfigMapName,
  LOG_LEVELS,
} from './annotation-values.ts';
export type { LogLevel, Parsed } from './annotation-values.ts';
export { applyJsonPatch, escapePointerToken, unescapePointerToken, pointer } from './json-patch.ts';
export type { Json, JsonObject, JsonPatchOp } from './json-patch.ts';
export { APP_PROBE_PREFIX, appProbePath } from './probe-rewrite.ts';
export { reviewAdmission, ADMISSION_API_VERSION } from './admission-review.ts';
export type { AdmissionAnswer, ReviewOptions } from './admission-review.ts';
export { createWebhookServer, WEBHOOK_PATHS } from './webhook-server.ts';
export type { WebhookServer, WebhookServerOptions } from './webhook-server.ts';
export { loadCertificatePair } from './certificate-files.ts';
export { injectManifests } from './offline-inject.ts';
export type { ManifestReport } from './offline-inject.ts';
export { InjectorError } from './injector-error.ts';
export type { InjectorErrorCode } from './injector-error.ts';
