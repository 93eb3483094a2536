# Draftsmith: `make run` serves the app on the embedded defaults; `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test bench lint install install-dev browser services clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(VENV)/bin/draftsmith serve

# Browser tests drive Debian's Chromium; Playwright cannot download its own browser here.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: install-dev browser
	$(PY) -m pytest

bench: install-dev
	$(PY) bench/ingest.py
	@test ! -f bench/generate.py || $(PY) bench/generate.py

lint: install-dev
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) var .pytest_cache test-artifacts
