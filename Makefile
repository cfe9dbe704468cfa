# One target per chore. Everything runs inside .venv, created on first use from the system python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest test-deep bench golden clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
