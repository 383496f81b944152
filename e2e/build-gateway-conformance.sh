#!/usr/bin/env bash
# Build the Gateway API conformance suite as a test binary (`go test -c` of the wrapper
# module e2e/gateway-conformance, which pins sigs.k8s.io/gateway-api and .../conformance at
# the same version), cached by that version and a hash of the wrapper's files:
#   ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin/gateway-conformance-<ver>-<hash>.test
# stdout: the binary's path. e2e/gateway.py runs it.
set -euo pipefail
shopt -s inherit_errexit

MODULE=$(cd "$(dirname "${BASH_SOURCE[0]}")/gateway-conformance" && pwd)
BIN_DIR=${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin
version=$(sed -n 's/^[[:space:]]*sigs\.k8s\.io\/gateway-api\/conformance \(v[^ ]*\)$/\1/p' "$MODULE/go.mod")
hash=$(cd "$MODULE" && LC_ALL=C sha256sum go.mod go.sum ./*.go | sha256sum | cut -c1-12)

# shellcheck source=e2e/gobuild.sh
source "$(dirname "${BASH_SOURCE[0]}")/gobuild.sh"
cached_go_test_build gateway-conformance "$BIN_DIR/gateway-conformance-$version-$hash.test" "$MODULE"
