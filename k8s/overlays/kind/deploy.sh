#!/usr/bin/env bash
# `make deploy`: installs the kind overlay in order. The CRD must exist
# before its ClusterSPIFFEID, the webhook's Secret before its pods, and the
# webhook must answer before the demo pods are created, or they would be
# admitted without sidecars (failurePolicy: Ignore).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

kubectl apply -f k8s/base/namespaces.yaml -f k8s/base/spire/crd-clusterspiffeids.yaml
kubectl wait --for=condition=Established crd/clusterspiffeids.spire.spiffe.io --timeout=60s
"$here/webhook-cert.sh"
kubectl apply -k k8s/overlays/kind
"$here/webhook-cert.sh" --patch-ca-bundle

kubectl -n spire rollout status statefulset/spire-server --timeout=300s
kubectl -n spire rollout status daemonset/spire-agent --timeout=300s
kubectl -n spire rollout status daemonset/spiffe-csi-driver --timeout=300s
kubectl -n spiffe-sidecar-system rollout status deployment/spiffe-sidecar-injector --timeout=300s

# Pods created before the webhook was ready have no sidecar: recreate them.
kubectl -n demo rollout restart deployment/backend deployment/frontend
kubectl -n demo rollout status deployment/backend --timeout=300s
kubectl -n demo rollout status deployment/frontend --timeout=300s
kubectl -n monitoring rollout status deployment/prometheus --timeout=300s
echo "deploy: done; try 'make kind-e2e'" >&2
