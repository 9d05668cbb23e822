# placeplan — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all lint bench sample-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . pytest pytest-socket python-igraph spopt ruff \
		mypy pandas-stubs types-networkx types-shapely
	touch $(STAMP)

## Set up and run the Isle of Wight demo: writes maps/isle-of-wight/
demo: $(STAMP)
	$(BIN)/placeplan run data/sample/isle-of-wight/plan.toml

## Set up and run the test suite (offline; network tests are skipped)
test: $(STAMP)
	$(BIN)/python -m pytest

## Everything, including slow tests
test-all: $(STAMP)
	$(BIN)/python -m pytest -m "not network"

## ruff (lint + format check) and mypy (configured in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(BIN)/mypy src/placeplan

## Routing benchmarks -> benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## Rebuild data/sample/ from ../shared/data (maintainers only)
sample-data: $(STAMP)
	$(BIN)/python scripts/build_sample_data.py --shared ../shared/data --out data/sample/isle-of-wight

clean:
	rm -rf $(VENV) maps/isle-of-wight
