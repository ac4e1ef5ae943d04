# almdesk: `make run` opens the app (demo sandbox when nothing is configured); `make test` runs the tests.
# `make dist` builds the frozen one-folder app (dist/almdesk/), `make dist-test` smoke-starts it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt

.PHONY: run test lint bench sandbox clean deps dist dist-test icons

$(VENV)/.installed: pyproject.toml constraints.txt
	scripts/system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PIP) -e '.[test]'
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

# the PNG sizes of the app icon, rendered from its SVG (Debian: librsvg2-bin)
icons:
	for n in 16 24 32 48 64 128 256 512; do \
	  rsvg-convert -w $$n -h $$n resources/icons/almdesk.svg -o resources/icons/almdesk-$$n.png; done

$(VENV)/.dist: $(VENV)/.installed constraints.txt
	$(PIP) -e '.[test,dist]'
	touch $@

# frozen one-folder build with PyInstaller: dist/almdesk/almdesk (GUI without a command, CLI with one)
dist: $(VENV)/.dist
	scripts/system-deps --dist
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
	  packaging/almdesk.spec

# smoke test of the frozen build: --version, a headless command, the window up and down offscreen
dist-test: dist
	scripts/dist-smoke dist/almdesk/almdesk

clean:
	rm -rf $(VENV) build dist *.egg-info
