# Quick start: `make demo` and `make test` on a fresh machine (`make test-fast` while editing).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo

.PHONY: demo test test-fast lint bench clean venv browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Runtime install (the demo).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Test install: runtime + test extras.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/iadsim demo --out $(OUT)

# The browser tests (tests/test_web_browser.py) drive Debian's chromium through Playwright; install
# it with the system package manager when missing (as root, where apt-get exists). Not fatal: the
# browser tests skip, saying why, when chromium is still missing. Playwright never downloads one.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	    && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests (apt-get)"; \
	  { apt-get update -qq && apt-get install -y -qq chromium fonts-liberation >/dev/null; } \
	    || echo "warning: could not install chromium; the browser tests will be skipped" >&2; \
	fi

test: $(VENV)/.installed-test browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q

# The edit loop: the whole suite but the tests marked slow (end-to-end runs, reference checks).
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(BIN)/python benchmarks/coverage_vs_gdal.py
	$(BIN)/python benchmarks/tracking_vs_stonesoup.py
	$(BIN)/python benchmarks/sim_throughput.py

clean:
	rm -rf $(VENV) out
