#!/usr/bin/env bash
# Creates the injector's serving certificate for kind: a throwaway CA and a
# certificate for spiffe-sidecar-injector.spiffe-sidecar-system.svc, stored
# as Secret spiffe-sidecar-system/spiffe-sidecar-injector-tls. With
# --patch-ca-bundle, writes the CA into both entries of the
# MutatingWebhookConfiguration (run that after it is applied).
# Idempotent: an existing CA and certificate in .tmp/kind-webhook are reused.
# Production clusters use cert-manager instead (docs/kubernetes.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
dir="$root/.tmp/kind-webhook"
ns=spiffe-sidecar-system
svc=spiffe-sidecar-injector
secret=spiffe-sidecar-injector-tls
webhook=spiffe-sidecar-injector
mkdir -p "$dir"
chmod 700 "$dir"

if [[ ! -s "$dir/tls.crt" ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=spiffe-sidecar-injector CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$svc.$ns.svc" -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' \
    "$svc" "$svc" "$ns" "$svc" "$ns" "$svc" "$ns" >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 365 -extfile "$dir/ext.cnf" -out "$dir/tls.crt" 2>/dev/null
  echo "webhook-cert: new certificate for $svc.$ns.svc in $dir" >&2
fi

kubectl create secret tls "$secret" -n "$ns" --cert="$dir/tls.crt" --key="$dir/tls.key" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
echo "webhook-cert: secret $ns/$secret up to date" >&2

if [[ "${1:-}" == "--patch-ca-bundle" ]]; then
  ca="$(base64 -w0 <"$dir/ca.crt")"
  kubectl patch mutatingwebhookconfiguration "$webhook" --type=json -p "[
    {\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\"$ca\"},
    {\"op\":\"add\",\"path\":\"/webhooks/1/clientConfig/caBundle\",\"value\":\"$ca\"}
  ]" >/dev/null
  echo "webhook-cert: caBundle of $webhook set" >&2
fi
