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
export { injectPod } from './inject-pod.ts';
export { injectWorkload } from './inject-workload.ts';
export { injectionSettings, DEFAULT_INJECTION_SETTINGS } from './injection-settings.ts';
export type { InjectionSettings } from './injection-settings.ts';
export { NAMESPACE_INJECT_LABEL } from './annotations.ts';
export {
  parsePort,
  parsePortList,
  parsePortsOrAll,
  parseCidrList,
  parseBoolean,
  parseLogLevel,
} from './annotation-values.ts';
export type { Parsed } from './annotation-values.ts';
export { applyJsonPatch } from './json-patch.ts';
export type { JsonObject, JsonPatchOp } from './json-patch.ts';
export { createWebhookServer, WEBHOOK_PATHS } from './webhook-server.ts';
export { injectManifests } from './offline-inject.ts';
