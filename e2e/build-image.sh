#!/usr/bin/env bash
# Build the controller image from the repository's unchanged Dockerfile with podman, without
# any registry, and cache it by a hash of its inputs outside the repository:
#   ${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}/images/ingress-ctl-<hash>.tar  (docker-archive)
# The Dockerfile's base image (FROM ...) is made here: debootstrap --variant=minbase of the
# same Debian suite, imported into podman under the base image's name (cached by suite).
# pip inside the build reaches PyPI through the host's CA bundle, passed as a build secret
# (never stored in the image). stdout: the archive path, then the image name.
set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${INGRESS_CTL_CACHE:-$HOME/.cache/ingress-ctl}
IMAGES=$CACHE/images
PODMAN_DIR=$CACHE/podman
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
IMAGE_REPO=docker.io/library/ingress-ctl

log() { printf '[build-image] %s\n' "$*" >&2; }

# podman with its own configuration (wall 6 of the notes): runc (crun 1.8 fails on hybrid
# cgroups), ulimits within the hard limits, no systemd, storage under the cache.
podman_config() {
    mkdir -p "$PODMAN_DIR"
    cat >"$PODMAN_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    cat >"$PODMAN_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PODMAN_DIR/storage"
runroot = "/run/ingress-ctl-podman"
CONF
    export CONTAINERS_CONF=$PODMAN_DIR/containers.conf
    export CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
}

# Base image: FROM's name in the Dockerfile (the first stage), e.g. debian:trixie-slim.
base_name() { sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]\{1,\}\).*/\1/p' "$REPO/Dockerfile" | head -n1; }

ensure_base() {
    local name suite rootfs
    name=$(base_name)
    suite=${name#*:}
    suite=${suite%%-*}
    if podman image exists "$name"; then
        return
    fi
    rootfs=$IMAGES/debian-$suite-minbase.tar
    if [[ ! -s $rootfs ]]; then
        local root start=$SECONDS
        root=$(mktemp -d -t ingress-ctl-debootstrap.XXXXXX)
        log "debootstrap --variant=minbase $suite (~100 s)"
        debootstrap --variant=minbase "$suite" "$root" "$MIRROR" >&2
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
        tar -C "$root" --numeric-owner -cf "$rootfs.tmp" .
        rm -rf "$root"
        mv "$rootfs.tmp" "$rootfs"
        log "base rootfs in $((SECONDS - start)) s: $rootfs"
    fi
    log "podman import $rootfs as $name"
    podman import --change 'CMD ["/bin/bash"]' "$rootfs" "$name" >&2
}

# Hash of everything the Dockerfile reads (COPY sources) and the Dockerfile itself.
input_hash() {
    (cd "$REPO" && git ls-files -co --exclude-standard Dockerfile .dockerignore pyproject.toml README.md ingress_ctl |
        LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16
}

# Drop the archives and podman tags of earlier builds (the layer cache stays).
prune() {
    local old
    find "$IMAGES" -maxdepth 1 -name 'ingress-ctl-*.tar' ! -name "ingress-ctl-$1.tar" -delete
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO"); do
        [[ $old == "$IMAGE_REPO:$1" ]] || podman untag "$old" >&2 || true
    done
}

main() {
    mkdir -p "$IMAGES"
    exec 7>"$IMAGES/.build.lock"
    flock 7
    local hash archive
    hash=$(input_hash)
    archive=$IMAGES/ingress-ctl-$hash.tar
    if [[ ! -s $archive ]]; then
        local start=$SECONDS
        podman_config
        ensure_base
        log "podman build $IMAGE_REPO:$hash"
        podman build --pull=never --network host --secret "id=ca,src=$CA_BUNDLE" \
            -t "$IMAGE_REPO:$hash" -f "$REPO/Dockerfile" "$REPO" >&2
        podman save --format docker-archive -o "$archive.tmp" "$IMAGE_REPO:$hash" >&2
        mv "$archive.tmp" "$archive"
        log "built in $((SECONDS - start)) s: $archive"
        prune "$hash"
    else
        # The archive is the cache; podman's storage may have lost the tag (e.g. pruned).
        podman_config
        podman image exists "$IMAGE_REPO:$hash" || podman load -i "$archive" >&2
    fi
    printf '%s\n%s\n' "$archive" "$IMAGE_REPO:$hash"
}

main "$@"
