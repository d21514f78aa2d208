#!/usr/bin/env bash
# `make kind-e2e`: checks the deployed demo end to end on kind.
#  1. both demo pods carry the injected sidecar and iptables init container;
#  2. the frontend reaches the backend through mTLS, and the backend saw the
#     frontend's SPIFFE ID (set by the backend's sidecar);
#  3. a pod without the frontend's identity is refused by the backend's
#     policy (or cannot reach it in plaintext at all);
#  4. Prometheus scrapes the sidecars' metrics.
set -euo pipefail
fail() { echo "kind-e2e: FAIL: $*" >&2; exit 1; }
ok() { echo "kind-e2e: ok: $*" >&2; }
td=example.org

for app in backend frontend; do
  names="$(kubectl -n demo get pod -l app.kubernetes.io/name=$app -o jsonpath='{.items[0].spec.initContainers[*].name}')"
  [[ "$names" == *spiffe-sidecar-init*spiffe-sidecar* ]] || fail "$app pod has init containers '$names'"
  ok "$app pod is injected ($names)"
done

caller=""
for _ in $(seq 1 30); do
  out="$(kubectl -n demo exec deploy/frontend -c frontend -- node -e \
    "require('http').get('http://127.0.0.1:8080/', r => { let b=''; r.on('data', d => b += d); r.on('end', () => console.log(b)); })" || true)"
  if [[ "$out" == *"spiffe://$td/ns/demo/sa/frontend"* ]]; then caller="$out"; break; fi
  sleep 2
done
[[ -n "$caller" ]] || fail "frontend never got an answer naming its SPIFFE ID (last: $out)"
ok "backend saw caller spiffe://$td/ns/demo/sa/frontend: $caller"

# A pod in namespace demo with another service account (default) and the
# frontend's sidecar config: injected, so it calls the backend over mTLS
# with an SVID, but not the one the backend's policy admits.
kubectl -n demo delete pod e2e-intruder --ignore-not-found --wait=true >/dev/null
kubectl -n demo run e2e-intruder --image=spiffe-sidecar:0.1.0 --image-pull-policy=IfNotPresent \
  --annotations=spiffe-sidecar.io/config-configmap=frontend-sidecar \
  --overrides='{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":1000}}}' \
  --command -- node -e "setInterval(() => {}, 1000)" >/dev/null
kubectl -n demo wait --for=condition=Ready pod/e2e-intruder --timeout=120s >/dev/null
code="$(kubectl -n demo exec e2e-intruder -- node -e \
  "require('http').get('http://backend.demo.svc.cluster.local:8080/', r => console.log(r.statusCode)).on('error', e => console.log(e.code))")"
kubectl -n demo delete pod e2e-intruder --wait=false >/dev/null
[[ "$code" != "200" ]] || fail "a pod without the frontend's identity got 200 from backend"
ok "a pod without the frontend's identity was refused ($code)"

kubectl -n monitoring port-forward svc/prometheus 19090:9090 >/dev/null 2>&1 &
pf=$!
trap 'kill $pf 2>/dev/null || true' EXIT
for _ in $(seq 1 30); do
  if curl -fsS "http://127.0.0.1:19090/api/v1/query?query=sum(sidecar_requests_total)" 2>/dev/null | grep -q '"result":\[{'; then
    ok "Prometheus has sidecar_requests_total"
    exit 0
  fi
  sleep 2
done
fail "Prometheus has no sidecar_requests_total"
