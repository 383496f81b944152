# Sourced by the e2e build scripts: build one Go binary from the module proxy in a throwaway
# module and cache it by version under ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin.
#   cached_go_build NAME BINARY PACKAGE LDFLAGS MODULE@VERSION...
# Builds only when BINARY is missing (one builder at a time: a lock per NAME), then prints
# BINARY's path on stdout; progress goes to stderr.

export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0

cached_go_build() {
    local name=$1 binary=$2 package=$3 ldflags=$4
    shift 4
    mkdir -p "$(dirname "$binary")"
    exec 9>"$(dirname "$binary")/.build-$name.lock"
    flock 9
    if [[ ! -x $binary ]]; then
        local start=$SECONDS work
        work=$(mktemp -d -t "ingress-ctl-$name-build.XXXXXX")
        (
            cd "$work"
            go mod init "example.invalid/$name" >&2
            go get "$@" >&2
            go build -trimpath -ldflags "$ldflags" -o "$binary.tmp.$$" "$package"
        ) || { rm -rf "$work"; return 1; }
        rm -rf "$work"
        mv "$binary.tmp.$$" "$binary"
        printf '[build-%s] built in %d s: %s\n' "$name" "$((SECONDS - start))" "$binary" >&2
    fi
    exec 9>&-
    printf '%s\n' "$binary"
}
