# almdesk: `make run` opens the app (demo sandbox when nothing is configured); `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench sandbox clean deps

$(VENV)/.installed: pyproject.toml
	scripts/system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@if [ -f tests/octane/js/package.json ]; then npm ci --prefix tests/octane/js --no-audit --no-fund -s || npm install --prefix tests/octane/js --no-audit --no-fund -s; fi
	touch $@

deps: $(VENV)/.installed

run: deps
	$(VENV)/bin/almdesk --demo

test: deps
	scripts/with-keyring $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# ruff, then mypy --strict over the files pyproject's [tool.mypy] lists (the whole package); .ci/run runs it
lint: deps
	$(VENV)/bin/ruff check almdesk tests bench scripts
	$(VENV)/bin/mypy

bench: deps
	$(PY) bench/sync.py

sandbox: deps
	$(VENV)/bin/almdesk sandbox

clean:
	rm -rf $(VENV) build *.egg-info
