#!/usr/bin/env bash
# `make run`: echo backends on 127.0.0.2-5, then the controller in file mode on
# examples/, HTTP on 127.0.0.1:8080 and /status on 127.0.0.1:10254. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
backend() { # name ip port
    .venv/bin/python e2e/echo_server.py --name "$1" --bind "$2" --port "$3" >/dev/null &
    pids+=($!)
}
backend web-1 127.0.0.2 8081
backend web-2 127.0.0.3 8081
backend api-1 127.0.0.4 8082
backend docs-1 127.0.0.5 8083
.venv/bin/ingress-ctl run --manifests examples --bind-address 127.0.0.1 \
    --http-port "${HTTP_PORT:-8080}" --https-port "${HTTPS_PORT:-8443}" \
    --status-port "${STATUS_PORT:-10254}" --state-dir "${STATE_DIR:-.state}" "$@"
