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

export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0

mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.build-echo.lock"
flock 9
if [[ ! -x $ECHO_BIN ]]; then
    start=$SECONDS
    work=$(mktemp -d -t ingress-ctl-echo-build.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    cd "$work"
    go mod init example.invalid/echo >&2
    go get "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" \
        "sigs.k8s.io/gateway-api/conformance@$GATEWAY_API_VERSION" >&2
    go build -trimpath -ldflags "-s -w" -o "$ECHO_BIN.tmp.$$" "$PKG"
    mv "$ECHO_BIN.tmp.$$" "$ECHO_BIN"
    printf '[build-echo] built in %d s: %s\n' "$((SECONDS - start))" "$ECHO_BIN" >&2
fi
printf '%s\n' "$ECHO_BIN"
