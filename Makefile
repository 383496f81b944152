# ingress-ctl: `make run` serves the file-mode demo, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: all venv system run test unit lint bench clean

all: test

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

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
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: venv system
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
