#!/usr/bin/env bash
# Build the echo backend for the in-cluster e2e: echo-basic of the Gateway API conformance
# suite (answers with pod name, namespace, method, path, host and headers as JSON), from the
# Go module sigs.k8s.io/gateway-api/conformance (nested module since v1.5, whose go.mod
# replaces its parent with ../, so it is built from a small wrapper module). Static binary
# (CGO_ENABLED=0), cached by version:
#   ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin/echo-basic-<ver>
# stdout: the binary's path.
set -euo pipefail
shopt -s inherit_errexit

GATEWAY_API_VERSION=${GATEWAY_API_VERSION:-v1.6.3}
BIN_DIR=${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin
ECHO_BIN=$BIN_DIR/echo-basic-$GATEWAY_API_VERSION
PKG=sigs.k8s.io/gateway-api/conformance/echo-basic

# shellcheck source=e2e/gobuild.sh
source "$(dirname "${BASH_SOURCE[0]}")/gobuild.sh"
cached_go_build echo "$ECHO_BIN" "$PKG" "-s -w" \
    "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" \
    "sigs.k8s.io/gateway-api/conformance@$GATEWAY_API_VERSION"
