# ingress-ctl: `make run` serves the file-mode demo, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: all venv system run test unit lint bench clean

all: test

# Says what it does: the first install takes a minute or two.
$(STAMP): pyproject.toml
	@echo "==> creating the virtualenv $(VENV) (first run only, 1-2 minutes)"
	python3 -m venv $(VENV)
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
	if [ -n "$$missing" ]; then \
	  echo "==> installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: venv system
	@echo "==> serving examples/ on http://127.0.0.1:$${HTTP_PORT:-8080} (status: http://127.0.0.1:$${STATUS_PORT:-10254}/status); Ctrl-C stops"
	PATH="$$PATH:/usr/sbin:/sbin" examples/demo.sh

test: venv system
	PATH="$$PATH:/usr/sbin:/sbin" $(VENV)/bin/pytest $(PYTEST_ARGS)

unit: venv system
	PATH="$$PATH:/usr/sbin:/sbin" $(VENV)/bin/pytest -m "not e2e" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy ingress_ctl tests e2e bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint Dockerfile

bench: venv system
	@command -v wrk >/dev/null && command -v valgrind >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light valgrind >/dev/null \
	    && (service nginx stop >/dev/null 2>&1 || true); }
	PATH="$$PATH:/usr/sbin:/sbin" $(PY) -m bench

clean:
	rm -rf $(VENV) .state .pytest_cache .mypy_cache .ruff_cache .hypothesis
