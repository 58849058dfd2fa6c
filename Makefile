# Two commands do all set-up on a fresh machine (Python 3.11+ and make are all they need):
#   make chat   start the assistant in the terminal on the embedded defaults (simulator + SQLite)
#   make test   lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: chat test lint bench audit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/loginbot chat $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

test: lint
	scripts/with-postgres.sh $(BIN)/pytest -n 2

# Benchmarks (issue 7): a table on the terminal and bench/results.json; a few minutes, mostly the
# 1,000-user login storm. One of them: `make bench ARGS=turn`; see `python -m bench --help`.
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# Known vulnerabilities in the installed dependencies (pip-audit; needs a network to reach its database).
audit: $(STAMP)
	scripts/audit.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache loginbot.db loginbot.db-* loginbot-simulator.json loginbot-outbox.txt
