#!/usr/bin/env bash
# Build the node half of the e2e cluster (kube-controller-manager, kube-scheduler, kubelet)
# from k8s.io/kubernetes in one `go build`, and cache the binaries by version outside the
# repository next to the control plane's:
#   ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin/{kube-controller-manager,kube-scheduler,kubelet}-<ver>
# Reuses build-controlplane.sh's throwaway-module recipe (and the Go build cache it filled).
# Exits immediately when all three exist. stdout: the three paths, one a line.
set -euo pipefail
shopt -s inherit_errexit

# shellcheck source=e2e/build-controlplane.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-controlplane.sh"

COMMANDS=(kube-controller-manager kube-scheduler kubelet)

node_paths() {
    local cmd
    for cmd in "${COMMANDS[@]}"; do printf '%s\n' "$BIN_DIR/$cmd-$K8S_VERSION"; done
}

node_cached() {
    local path
    for path in $(node_paths); do [[ -x $path ]] || return 1; done
}

build_node() {
    local work=$1 cmd pkgs=()
    for cmd in "${COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
    new_k8s_module "$work" node "${pkgs[@]}"
    log "go build ${COMMANDS[*]} (one build; ~4 min once kube-apiserver's packages are cached)"
    mkdir -p "$work/out"
    build_k8s_commands "$work/out/" "${pkgs[@]}"
    for cmd in "${COMMANDS[@]}"; do mv "$work/out/$cmd" "$BIN_DIR/$cmd-$K8S_VERSION"; done
}

node_main() {
    mkdir -p "$BIN_DIR"
    exec 8>"$BIN_DIR/.build-node.lock"
    flock 8
    if ! node_cached; then
        local start=$SECONDS
        WORK_DIR=$(mktemp -d -t ingress-ctl-node-build.XXXXXX)
        trap 'rm -rf "$WORK_DIR"' EXIT
        log "$(go version); building in $WORK_DIR"
        (build_node "$WORK_DIR")
        log "done in $((SECONDS - start)) s"
    fi
    node_paths
}

node_main "$@"
