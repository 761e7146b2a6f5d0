# tomgraph: `make demo` runs the main job, `make test` runs the whole test suite.
# Both set everything up first (virtual environment, dependencies, the local Neo4j).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tomgraph-setup

.PHONY: setup demo test lint format lock graph-model clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock graph/neo4j_launcher/pom.xml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/tomgraph neo4j install
	touch $@

demo: setup
	$(BIN)/tomgraph demo

test: setup lint
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the pinned dependency list after changing pyproject.toml.
lock: setup
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^tomgraph' > requirements.lock

graph-model: setup
	$(BIN)/tomgraph graph-model --out docs/graph-model.md

clean:
	rm -rf $(VENV) .tomgraph-test .pytest_cache .mypy_cache .ruff_cache
