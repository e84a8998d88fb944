# The two set-up commands of the README: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
# the web UI's end-to-end tests drive Debian's chromium; Playwright never downloads a browser of its own
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install browser demo test lint bench bench-api clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

browser:  # Debian's chromium, for tests/e2e (a fresh CI machine has none)
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the web UI's end-to-end tests"; \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

demo: install
	$(BIN)/onboardflow demo

test: install browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/engine.py

bench-api: install  # needs wrk (apt-get install -y wrk)
	$(BIN)/python benchmarks/api.py

clean:
	rm -rf $(VENV) var
