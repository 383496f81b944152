#!/usr/bin/env bash
# Build helm from its Go module (helm.sh/helm/v3, no registry binary we may use) and cache it
# by version: ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin/helm-<ver>. stdout: its path.
set -euo pipefail
shopt -s inherit_errexit

HELM_VERSION=${HELM_VERSION:-v3.22.0}
BIN_DIR=${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin
HELM_BIN=$BIN_DIR/helm-$HELM_VERSION

# shellcheck source=e2e/gobuild.sh
source "$(dirname "${BASH_SOURCE[0]}")/gobuild.sh"
cached_go_build helm "$HELM_BIN" helm.sh/helm/v3/cmd/helm \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
