# tomgraph: `make demo` runs the main job, `make test` runs the whole test suite.
# Both set everything up first (virtual environment, dependencies, the local Neo4j).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tomgraph-setup
AUDIT_VENV  := .venv-audit
AUDIT_STAMP := $(AUDIT_VENV)/.tomgraph-audit
BROWSER_STAMP := $(VENV)/.tomgraph-browser
OFFICE_STAMP  := $(VENV)/.tomgraph-office
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser office demo test lint audit format lock graph-model docs settings-doc clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock graph/neo4j_launcher/pom.xml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@echo "tomgraph is installed as $(BIN)/tomgraph; run '. $(BIN)/activate' to call it as 'tomgraph'"
	$(BIN)/tomgraph neo4j install
	touch $@

# Browser tests (graph views, reports) drive Debian's chromium headless; the summary.pdf test
# renders the PDF to PNG with poppler's pdftoppm.
browser: $(BROWSER_STAMP)

$(BROWSER_STAMP):
	command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	command -v pdftoppm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq poppler-utils; }
	test -x /usr/bin/chromium
	test -x /usr/bin/pdftoppm
	touch $@

# The template test opens `tomgraph template`'s workbook in Debian's LibreOffice Calc, headless.
office: $(OFFICE_STAMP)

$(OFFICE_STAMP):
	command -v soffice >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libreoffice-calc; }
	test -x /usr/bin/soffice
	touch $@

demo: setup
	$(BIN)/tomgraph demo
	@echo "The commands above (and in README.md) are $(BIN)/tomgraph: run '. $(BIN)/activate' first to type them as shown."

test: setup browser office lint
	$(BIN)/pytest -q

lint: setup $(AUDIT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tools/audit.py --pip-audit $(AUDIT_VENV)/bin/pip-audit requirements.lock

# pip-audit over requirements.lock, failing also when the vulnerability service cannot be
# reached (`make lint` says so loudly and goes on). pip-audit has a virtualenv of its own, so
# its dependencies are not the project's.
audit: setup $(AUDIT_STAMP)
	TOMGRAPH_AUDIT_REQUIRED=1 $(BIN)/python tools/audit.py --pip-audit $(AUDIT_VENV)/bin/pip-audit requirements.lock

$(AUDIT_STAMP): tools/pip-audit.lock
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install -q -r tools/pip-audit.lock
	touch $@

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the pinned dependency list after changing pyproject.toml.
lock: setup
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^tomgraph' > requirements.lock

graph-model: docs

# docs/graph-model.md, docs/bundle-format.md and docs/checks.md, generated (a test fails when stale).
docs: setup
	$(BIN)/python -m tools.docs docs

# docs/settings.md: every setting with its default, from graph/settings.py.
settings-doc: setup
	$(BIN)/python -m graph.settings_doc > docs/settings.md

clean:
	rm -rf $(VENV) $(AUDIT_VENV) .tomgraph-test .pytest_cache .mypy_cache .ruff_cache
