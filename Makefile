# placeplan — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# lint tools pinned exactly: a newer ruff or mypy may format or check differently
LINT_TOOLS := ruff==0.17.6 mypy==2.4.1 pandas-stubs==3.1.0.261029 \
	types-networkx==3.6.1.20261114 types-shapely==2.1.0.20261030

.PHONY: demo test test-all lint bench bench-forecast bench-optimise bench-optimise-study sample-data sample-sen2 sample-programme region-outline clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . pytest pytest-socket python-igraph spopt hypothesis pypdfium2 \
		$(LINT_TOOLS)
	touch $(STAMP)

## Set up and run the Isle of Wight demo: writes maps/isle-of-wight/
demo: $(STAMP)
	$(BIN)/placeplan run data/sample/isle-of-wight/plan.toml

## Set up, lint (ruff, mypy) and run the test suite (offline; network tests are skipped)
test: lint
	$(BIN)/python -m pytest

## Everything, including slow tests
test-all: $(STAMP)
	$(BIN)/python -m pytest -m "not network"

## ruff (lint + format check) and mypy (configured in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(BIN)/mypy src/placeplan

## Routing benchmarks and the forecast backtest -> benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/backtest.py

## Rolling-origin backtest of the SEN2 forecast -> its section of benchmarks/RESULTS.md
bench-forecast: $(STAMP)
	$(BIN)/python benchmarks/backtest.py

## Capital programme optimisation (Isle of Wight + county scale) -> its section of RESULTS.md
bench-optimise: $(STAMP)
	$(BIN)/python benchmarks/optimise.py

## A county's whole capital study (curve, alternatives; ~20 min) -> its section of RESULTS.md
bench-optimise-study: $(STAMP)
	$(BIN)/python benchmarks/optimise_study.py

## Rebuild data/sample/ from ../shared/data (maintainers only)
sample-data: $(STAMP)
	$(BIN)/python scripts/build_sample_data.py --shared ../shared/data --out data/sample/isle-of-wight

## Refresh the sample's "Optimised programme" scenario from `placeplan optimise` (maintainers)
sample-programme: $(STAMP)
	$(BIN)/placeplan --no-progress optimise data/sample/isle-of-wight/plan.toml --out .sample-programme
	cp .sample-programme/optimised-programme.toml data/sample/isle-of-wight/optimised-programme.toml
	rm -rf .sample-programme

## Rebuild data/sample/isle-of-wight/region-outline.geojson from ../shared/data (maintainers only)
region-outline: $(STAMP)
	$(BIN)/python scripts/build_region_outline.py --shared ../shared/data --out data/sample/isle-of-wight

## Rebuild data/sample/isle-of-wight/sen2/ from ../shared/data/send (maintainers only)
sample-sen2: $(STAMP)
	$(BIN)/python scripts/build_sen2_sample.py --shared ../shared/data/send --out data/sample/isle-of-wight/sen2

clean:
	rm -rf $(VENV) maps/isle-of-wight
