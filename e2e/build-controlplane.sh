#!/usr/bin/env bash
# Build the e2e control plane (etcd + kube-apiserver) from Go modules and cache the
# binaries by version outside the repository:
#   ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin/{etcd-<ver>,kube-apiserver-<ver>}
# Neither project publishes binaries to a package registry we may use, and
# `go install pkg@version` refuses modules whose go.mod has replace directives, so each
# binary is built inside a throwaway module in a temporary directory.
# Exits immediately when both cached binaries exist. Progress goes to stderr; stdout gets
# exactly two lines: the etcd path, then the kube-apiserver path.
# Override versions with ETCD_VERSION / K8S_VERSION (Go module versions).
set -euo pipefail
shopt -s inherit_errexit

K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
BIN_DIR=${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin
ETCD_BIN=$BIN_DIR/etcd-$ETCD_VERSION
APISERVER_BIN=$BIN_DIR/kube-apiserver-$K8S_VERSION

export PATH=$PATH:/usr/local/go/bin
# Sane, reproducible Go settings regardless of the caller's environment.
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0

log() { printf '[build-controlplane] %s\n' "$*" >&2; }

# Print the path of the go.mod file of MODULE@VERSION (downloads it if needed).
gomod_path() {
    go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'
}

# Print every module that MODULE@VERSION's go.mod replaces with a ./staging/ directory.
staging_modules() {
    local gomod
    gomod=$(gomod_path "$1")
    sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\(k8s\.io/[^[:space:]]\{1,\}\)[[:space:]]\{1,\}=>[[:space:]]\{1,\}\./staging/.*#\2#p' "$gomod"
}

# Make a fresh throwaway module directory named $2 under $1 and cd into it.
new_module() {
    mkdir -p "$1/$2"
    cd "$1/$2"
    log "go mod init example.invalid/$2 (in $PWD)"
    go mod init "example.invalid/$2"
}

build_etcd() {
    local work=$1
    new_module "$work" etcd
    log "go get go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    log "go build go.etcd.io/etcd/server/v3 -> $ETCD_BIN"
    go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.tmp.$$" go.etcd.io/etcd/server/v3
    mv "$ETCD_BIN.tmp.$$" "$ETCD_BIN"
}

# Make a throwaway module (named $2, under $1) that can build commands of
# k8s.io/kubernetes@$K8S_VERSION: every ./staging replace of the tag's go.mod points at the
# matching published v0.x module. Then `go get` each package given after $2.
new_k8s_module() {
    local work=$1 name=$2 staging_version="v0.${K8S_VERSION#v1.}" mod mods pkg
    shift 2
    new_module "$work" "$name"
    log "replacing staging modules of k8s.io/kubernetes@$K8S_VERSION with @$staging_version"
    mods=$(staging_modules "k8s.io/kubernetes@$K8S_VERSION")
    [[ -n $mods ]] || { log "no ./staging replace lines in k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
    for mod in $mods; do
        go mod edit "-replace=$mod=$mod@$staging_version"
    done
    for pkg in "$@"; do
        log "go get $pkg@$K8S_VERSION"
        go get "$pkg@$K8S_VERSION"
    done
}

# go build k8s.io/kubernetes command packages ($2...) into directory $1 with an honest /version.
build_k8s_commands() {
    local out=$1 minor=${K8S_VERSION#v1.} v=k8s.io/component-base/version
    minor=${minor%%.*}
    shift
    go build -trimpath -o "$out" -ldflags "-s -w \
        -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor \
        -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z" "$@"
}

build_apiserver() {
    local work=$1
    new_k8s_module "$work" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
    log "go build k8s.io/kubernetes/cmd/kube-apiserver -> $APISERVER_BIN (slow: ~4 min cold on 2 cores)"
    build_k8s_commands "$APISERVER_BIN.tmp.$$" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$APISERVER_BIN.tmp.$$" "$APISERVER_BIN"
}

print_paths() { printf '%s\n' "$ETCD_BIN" "$APISERVER_BIN"; }

main() {
    mkdir -p "$BIN_DIR"
    exec 9>"$BIN_DIR/.build.lock"
    flock 9  # one build at a time; a caller that waited then finds the cache
    if [[ -x $ETCD_BIN && -x $APISERVER_BIN ]]; then
        log "cached: $ETCD_BIN $APISERVER_BIN"
        print_paths
        return
    fi
    local start=$SECONDS
    WORK_DIR=$(mktemp -d -t ingress-ctl-cp-build.XXXXXX)
    trap 'rm -rf "$WORK_DIR"' EXIT
    log "$(go version); building in $WORK_DIR"
    [[ -x $ETCD_BIN ]] || (build_etcd "$WORK_DIR")
    [[ -x $APISERVER_BIN ]] || (build_apiserver "$WORK_DIR")
    log "done in $((SECONDS - start)) s: $ETCD_BIN $APISERVER_BIN"
    print_paths
}

# Run only when executed; build-node.sh sources this file for its functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
