#!/usr/bin/env bash
# Build helm from its Go module (helm.sh/helm/v3, no registry binary we may use) and cache it
# by version: ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin/helm-<ver>. stdout: its path.
set -euo pipefail
shopt -s inherit_errexit

HELM_VERSION=${HELM_VERSION:-v3.22.0}
BIN_DIR=${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin
HELM_BIN=$BIN_DIR/helm-$HELM_VERSION

export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0

mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.build-helm.lock"
flock 9
if [[ ! -x $HELM_BIN ]]; then
    start=$SECONDS
    work=$(mktemp -d -t ingress-ctl-helm-build.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    cd "$work"
    go mod init example.invalid/helm >&2
    go get "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    go build -trimpath -o "$HELM_BIN.tmp.$$" \
        -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
        helm.sh/helm/v3/cmd/helm
    mv "$HELM_BIN.tmp.$$" "$HELM_BIN"
    printf '[build-helm] built in %d s: %s\n' "$((SECONDS - start))" "$HELM_BIN" >&2
fi
printf '%s\n' "$HELM_BIN"
