# calls-app: `make run` starts the app on SQLite, `make test` runs the whole suite.
# Settings may live in a .env file (KEY=value lines); see README.
-include .env
export

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test migrate lint bench clean

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

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
