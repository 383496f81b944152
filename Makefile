# ingress-ctl: `make run` serves the file-mode demo, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Debian's python3 (3.11 on bookworm): the distribution's build (PGO and LTO), the one a
# bookworm host has; not whichever python3 comes first in PATH.
PYTHON ?= /usr/bin/python3
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: all venv system cluster-system cluster cluster-down gateway-conformance run test unit lint bench clean

all: test

# Says what it does: the first install takes a minute or two.
$(STAMP): pyproject.toml
	@echo "==> creating the virtualenv $(VENV) with $(PYTHON) (first run only, 1-2 minutes)"
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || { echo "==> installing python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip"
	$(VENV)/bin/pip install --quiet --upgrade pip
	@echo "==> installing ingress-ctl and its development tools into $(VENV)"
	set -o pipefail; $(VENV)/bin/pip install --progress-bar off -e '.[dev]' \
	  | (grep --line-buffered -E '^(Collecting|Successfully installed)' || true)
	touch $(STAMP)
	@echo "==> $(VENV) is ready"

venv: $(STAMP)

# Debian packages the controller and its tests need, installed when missing.
system:
	@missing=""; \
	command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	command -v ip >/dev/null || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing="$$missing iproute2"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Debian packages of the single-node e2e cluster and of the image build (e2e/cluster.py,
# e2e/build-image.sh), installed when missing.
CLUSTER_PACKAGES := containerd runc containernetworking-plugins iptables podman buildah \
	fuse-overlayfs slirp4netns uidmap conmon debootstrap gcc libc6-dev
cluster-system:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(CLUSTER_PACKAGES) 2>/dev/null \
	  | awk '$$1 == "ii" {print $$2}' | sort | comm -13 - <(printf '%s\n' $(CLUSTER_PACKAGES) | sort)); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# A real single-node Kubernetes on 127.0.0.1 (docs/install.md, "Try it on one machine").
cluster: venv system cluster-system
	PATH="$$PATH:/usr/sbin:/sbin" $(PY) -m e2e.cluster up

cluster-down: venv
	PATH="$$PATH:/usr/sbin:/sbin" $(PY) -m e2e.cluster down

# The official Gateway API conformance suite against the controller in the cluster
# (docs/gateway-api.md): builds what is missing, writes $(GATEWAY_REPORT), prints a summary,
# fails when a core test failed. GATEWAY_CONTROLLER=host runs the controller on this machine.
gateway-conformance: venv system cluster-system
	PATH="$$PATH:/usr/sbin:/sbin" $(PY) -m e2e.gateway

run: venv system
	@echo "==> serving examples/ on http://127.0.0.1:$${HTTP_PORT:-8080} (status: http://127.0.0.1:$${STATUS_PORT:-10254}/status); Ctrl-C stops"
	PATH="$$PATH:/usr/sbin:/sbin" examples/demo.sh

test: venv system cluster-system
	PATH="$$PATH:/usr/sbin:/sbin" $(VENV)/bin/pytest $(PYTEST_ARGS)

unit: venv system
	PATH="$$PATH:/usr/sbin:/sbin" $(VENV)/bin/pytest -m "not e2e" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy ingress_ctl tests e2e bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint Dockerfile

bench: venv system cluster-system
	@command -v wrk >/dev/null && command -v valgrind >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light valgrind >/dev/null \
	    && (service nginx stop >/dev/null 2>&1 || true); }
	PATH="$$PATH:/usr/sbin:/sbin" $(PY) -m bench
	@# the data plane and the churn once more on the image's HAProxy (trixie's 3.0), built from the Dockerfile
	image=$$(e2e/build-image.sh | tail -n1) && cache=$${INGRESS_CTL_CACHE:-$$HOME/.cache/ingress-ctl} && \
	  CONTAINERS_CONF=$$cache/podman/containers.conf CONTAINERS_STORAGE_CONF=$$cache/podman/storage.conf \
	  BENCH_HAPROXY_IMAGE=$$image PATH="$$PATH:/usr/sbin:/sbin" $(PY) -m bench data_plane churn

clean:
	rm -rf $(VENV) .state .pytest_cache .mypy_cache .ruff_cache .hypothesis
