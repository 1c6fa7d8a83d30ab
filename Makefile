# Two set-up commands on a fresh machine: `make demo` and `make test` (both build .venv if missing).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The demo and tests run freqtrade offline, from the bundled market snapshot and candles.
OFFLINE := FREQTRADE_PACK_OFFLINE=1

.PHONY: venv venv-lstm venv-ui demo test test-lstm test-ui validate markets benchmark clean

$(STAMP): pyproject.toml hatch_build.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# Optional extras: PyTorch for the FreqAI `lstm` member, Playwright for the browser test.
venv-lstm: venv
	$(BIN)/python -m pip install --quiet -e ".[test,lstm]"

venv-ui: venv
	$(BIN)/python -m pip install --quiet -e ".[test,ui]"

demo: venv
	$(OFFLINE) $(BIN)/ftpack-demo

test: venv
	$(BIN)/python -m pytest

# Suites that need an optional extra live outside tests/ so `make test` never skips them.
test-lstm: venv-lstm
	$(OFFLINE) $(BIN)/python -m pytest tests_lstm

# FreqUI 3.1.1 (../shared/frequi, or FREQUI_DIR) in Debian's chromium; installs chromium when missing (needs root).
test-ui: venv-ui
	scripts/ensure-chromium
	$(OFFLINE) $(BIN)/python -m pytest tests_ui

# Every pack strategy in 2-month windows of the bundled data, beside buy-and-hold and SampleStrategy.
validate: venv
	$(OFFLINE) $(BIN)/ftpack-validate --timerange 20250501-20250901 --windows 2M --out user_data/validate

# Needs network access to the exchange: re-fetch the market snapshot's pairs.
markets: venv
	$(BIN)/ftpack-markets refresh

benchmark: venv
	$(OFFLINE) $(BIN)/python benchmarks/backtest_speed.py

clean:
	rm -rf user_data/backtest_results user_data/hyperopt_results user_data/demo user_data/validate .pytest_cache
