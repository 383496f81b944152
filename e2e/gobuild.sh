# Sourced by the e2e build scripts: build one Go binary and cache it by version under
# ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/bin.
#   cached_go_build NAME BINARY PACKAGE LDFLAGS MODULE@VERSION...
#       a main package from the module proxy, built in a throwaway module;
#   cached_go_test_build NAME BINARY MODULE_DIR
#       `go test -c` of the test package at the root of a module of this repository
#       (built from a copy, so the repository stays clean).
# Each builds only when BINARY is missing (one builder at a time: a lock per NAME), then
# prints BINARY's path on stdout; progress goes to stderr.

export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0

# _cached NAME BINARY COMMAND...: unless BINARY exists, run COMMAND... OUT in a fresh
# directory (OUT: where it must write the binary), then move OUT to BINARY.
_cached() {
    local name=$1 binary=$2
    shift 2
    mkdir -p "$(dirname "$binary")"
    exec 9>"$(dirname "$binary")/.build-$name.lock"
    flock 9
    if [[ ! -x $binary ]]; then
        local start=$SECONDS work
        work=$(mktemp -d -t "ingress-ctl-$name-build.XXXXXX")
        (cd "$work" && "$@" "$binary.tmp.$$") || {
            rm -rf "$work" "$binary.tmp.$$"
            return 1
        }
        rm -rf "$work"
        mv "$binary.tmp.$$" "$binary"
        printf '[build-%s] built in %d s: %s\n' "$name" "$((SECONDS - start))" "$binary" >&2
    fi
    exec 9>&-
    printf '%s\n' "$binary"
}

_throwaway_module_build() {
    local name=$1 package=$2 ldflags=$3 out=${*: -1}
    go mod init "example.invalid/$name" >&2
    go get "${@:4:$#-4}" >&2
    go build -trimpath -ldflags "$ldflags" -o "$out" "$package"
}

cached_go_build() {
    local name=$1 binary=$2
    shift 2
    _cached "$name" "$binary" _throwaway_module_build "$name" "$@"
}

_module_test_build() {
    local module=$1 out=$2
    cp -r "$module"/. .
    go test -c -trimpath -ldflags "-s -w" -o "$out" .
}

cached_go_test_build() {
    _cached "$1" "$2" _module_test_build "$3"
}
