# One target per chore. Everything runs inside .venv, created on first use from the system python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest test-deep bench golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/eventbt run scenarios/ema_rotation.toml --out runs/demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test-deep: $(STAMP)
	EVENTBT_HYPOTHESIS_PROFILE=deep $(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/eventbt bench

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
