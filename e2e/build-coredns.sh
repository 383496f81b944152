#!/usr/bin/env bash
# Build CoreDNS for the Gateway API conformance suite's base manifests (they run
# registry.k8s.io/coredns/coredns:v1.12.2 as the UDP backend in gateway-conformance-infra,
# and the suite waits for every pod there to be Ready). No registry is reachable here: the
# same version is built from the Go module proxy (github.com/coredns/coredns has no replace
# lines, so a throwaway module builds it as upstream does: CGO_ENABLED=0, the default plugin
# set of its plugin.cfg, compiled into core/plugin/zplugin.go). Cached by version:
#   ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin/coredns-<ver>
# stdout: the binary's path.
set -euo pipefail
shopt -s inherit_errexit

COREDNS_VERSION=${COREDNS_VERSION:-v1.12.2}
BIN_DIR=${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin

# shellcheck source=e2e/gobuild.sh
source "$(dirname "${BASH_SOURCE[0]}")/gobuild.sh"
cached_go_build coredns "$BIN_DIR/coredns-$COREDNS_VERSION" github.com/coredns/coredns \
    "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
    "github.com/coredns/coredns@$COREDNS_VERSION"
