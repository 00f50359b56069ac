# Two commands on a fresh clone: `make test` and `make demo`. Each creates .venv (Python 3.11+)
# and installs the project with its dev extras when pyproject.toml changes.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench bench-run bench-org bench-archive clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "make: Python 3.11 or newer is needed; install it and retry" >&2; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

# the run succeeds whatever the verdicts (exit 1 FAIL / 3 GAP are findings); only 2 (bad input) fails
demo: $(STAMP)
	$(BIN)/rootwatch pattern table
	$(BIN)/rootwatch run parameters/sandbox.yaml; rc=$$?; test $$rc -ne 2

bench: $(STAMP)
	$(BIN)/python bench/patterns.py

bench-run: $(STAMP)
	$(BIN)/python bench/run.py

bench-org: $(STAMP)
	$(BIN)/python bench/collect_org.py

bench-archive: $(STAMP)
	$(BIN)/python bench/scan_archive.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
