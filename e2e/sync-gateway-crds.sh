#!/usr/bin/env bash
# Copy the Gateway API CRDs (standard channel) of the pinned version, byte for byte, from
# the Go module sigs.k8s.io/gateway-api into deploy/gateway-api/ and write its
# kustomization. Run after changing GATEWAY_API_VERSION (the conformance suite's version,
# e2e/gateway-conformance/go.mod); tests/test_gateway_deploy.py checks the copies match.
set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GATEWAY_API_VERSION=${GATEWAY_API_VERSION:-v1.6.3}
OUT=$REPO/deploy/gateway-api
export PATH=$PATH:/usr/local/go/bin GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off

module=$(go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
source_dir=$module/config/crd/standard
mkdir -p "$OUT"
find "$OUT" -maxdepth 1 -name 'gateway.networking.k8s.io_*.yaml' -delete
files=()
for file in "$source_dir"/gateway.networking.k8s.io_*.yaml; do
    cp "$file" "$OUT/"
    files+=("$(basename "$file")")
done
{
    printf '%s\n' \
        "# Gateway API $GATEWAY_API_VERSION CRDs, standard channel (GatewayClass, Gateway, HTTPRoute," \
        "# GRPCRoute, TLSRoute, TCPRoute, ReferenceGrant, ...): generated files, copied unchanged from" \
        "# the upstream Go module sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION (config/crd/standard) by" \
        "# e2e/sync-gateway-crds.sh. Install once per cluster, before the GatewayClass:" \
        "#   kubectl apply -k deploy/gateway-api   (or --server-side, as upstream advises)" \
        "apiVersion: kustomize.config.k8s.io/v1beta1" \
        "kind: Kustomization" \
        "resources:"
    printf '  - %s\n' "${files[@]}"
} >"$OUT/kustomization.yaml"
printf '%s\n' "$OUT"
