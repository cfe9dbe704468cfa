# One target per chore. Everything runs inside .venv, created on first use from the system python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions of every package installed (pip and the build backend included), so a machine set up today
# and one set up next year run the same code: see docs/determinism.md. `make lock` refreshes the file.
CONSTRAINTS := constraints.txt

.PHONY: demo test lint typecheck pytest test-deep bench golden clean browser lock screenshots

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CONSTRAINTS) $(BIN)/python -m pip install --quiet --upgrade pip
	PIP_CONSTRAINT=$(CONSTRAINTS) $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Resolve the newest versions pyproject.toml allows in a scratch environment and write them to $(CONSTRAINTS).
# Review the diff (and run `make test`) before committing it.
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV) build
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip setuptools
	$(LOCK_VENV)/bin/python -m pip install --quiet '.[test]'
	{ echo "# Exact versions installed by make demo / make test (pip, setuptools and every dependency)."; \
	  echo "# Written by make lock with Python $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version())'); do not edit by hand."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all | grep -v -i '^eventbt[= @]' | LC_ALL=C sort -f; } > $(CONSTRAINTS)
	rm -rf $(LOCK_VENV) build

demo: $(STAMP)
	$(BIN)/eventbt run scenarios/ema_rotation.toml --out runs/demo --report

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser
	$(BIN)/pytest -q

# Headless Chromium for the report's browser test (Debian's package); a no-op when chromium is on the PATH.
# If it cannot be installed (no apt-get, no root), tests/eventbt/test_report_browser.py is skipped with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
	} || echo "chromium could not be installed: the browser test will be skipped"

test-deep: $(STAMP)
	EVENTBT_HYPOTHESIS_PROFILE=deep $(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/eventbt bench

# Rewrite tests/golden/*.json and the transcripts of docs/debugging.md from the current engine; review the
# diff before committing it.
golden: $(STAMP)
	EVENTBT_UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/scenarios/test_golden.py
	$(BIN)/python -m tests.eventbt.debugging_doc

# Rewrite the pictures of docs/report.md's explorer walkthrough (docs/images/explorer-*.png) in headless Chromium.
screenshots: $(STAMP) browser
	EVENTBT_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q -s tests/eventbt/test_report_explorer_browser.py -k screenshots

clean:
	rm -rf $(VENV) $(LOCK_VENV) runs .pytest_cache .mypy_cache .ruff_cache
