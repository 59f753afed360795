# calls-app: `make demo` tries it with a local Slack in the browser, `make run` starts the app
# on SQLite, `make test` runs the whole suite.
# Settings may live in a .env file (KEY=value lines); see README.
-include .env
export

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo run test migrate lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

migrate: $(VENV)/.installed
	$(BIN)/alembic upgrade head

run: migrate
	$(BIN)/python app.py

# No settings: the app (python app.py, on ./demo.db) beside a local Slack; Ctrl-C stops both.
demo: $(VENV)/.installed
	$(BIN)/python -m local_slack

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
