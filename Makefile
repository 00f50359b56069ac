# rootwatch on a fresh clone (README, "Set up"). Every target installs into .venv (Python 3.11+) from the
# checked-in lock (lock/*.txt: exact versions of every install set), only what it needs:
#   make install   what a scheduled host needs: core, PDF, X.509 signing
#   make demo      + the sandbox: the evidence run of the sandbox organisation, then what to open
#   make lab       + JupyterLab: the notebooks, on the embedded sandbox by default
#   make test      everything: the whole test suite
#   make lock      re-resolve the lock against today's package indexes (commit it with the change)
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
comma := ,
empty :=
space := $(empty) $(empty)
# install set -> the extras it installs (each pinned by its own lock file)
EXTRAS_host := pdf x509
EXTRAS_demo := pdf x509 sandbox
EXTRAS_lab := pdf x509 sandbox lab
EXTRAS_dev := dev
DEMO_PARAMS := parameters/sandbox.yaml

.PHONY: install demo lab test lock bytecode bench bench-run bench-org bench-history bench-archive bench-startup clean

install: $(VENV)/.installed-host
# PYTHONDONTWRITEBYTECODE emptied: pytest keeps each test module's assertion-rewritten bytecode in
# __pycache__ only when it may write bytecode; without it, each of the five pytest processes rewrote all
# ~220 modules again (some 5 s of CPU each, on a 2-core machine). -p tests.early: see its docstring (given
# here rather than in addopts: `-p` imports it before pytest's own path settings, so it needs the
# checkout's directory on sys.path, which `python -m pytest` gives and the pytest script does not)
test: $(VENV)/.installed-dev $(VENV)/wheelhouse/.complete bytecode
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -p tests.early

# the lock's wheels for the sandbox set (core included), so that tests/test_package.py installs the built
# wheel into fresh virtualenvs offline
$(VENV)/wheelhouse/.complete: lock/sandbox.txt | $(BIN)/python
	$(PIP) download --no-deps --dest $(VENV)/wheelhouse -r lock/sandbox.txt
	touch $@

# lib/ byte-compiled (only what changed): an editable install leaves it uncompiled, and where
# PYTHONDONTWRITEBYTECODE is set (some CI and container images) every rootwatch process and notebook
# kernel would compile it again (a quarter of a second of CPU each: a run and its kernel, every time)
bytecode: | $(BIN)/python
	@$(BIN)/python -m compileall -q lib

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "make: Python 3.11 or newer is needed; install it and retry" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: pyproject.toml setup.py $(wildcard lock/*.txt) | $(BIN)/python
	$(PIP) install -r lock/build.txt
	$(PIP) install --no-build-isolation $(foreach e,$(EXTRAS_$*),-c lock/$(e).txt) \
		-e '.[$(subst $(space),$(comma),$(EXTRAS_$*))]'
	touch $@

# Any outcome of the audit is a result (0 PASS, 1 FAIL, 3 evidence gaps: the drifted account is meant to
# fail); anything else (2 bad input, 4 could not complete, interrupted) fails the demo.
demo: $(VENV)/.installed-demo bytecode
	@out=reports/$$(date -u +%Y%m%dT%H%M%SZ)-demo; \
	$(BIN)/rootwatch run $(DEMO_PARAMS) --out $$out; rc=$$?; \
	case $$rc in 0|1|3) ;; *) echo "make demo: rootwatch run exited $$rc: no evidence bundle" >&2; exit $$rc;; esac; \
	echo; echo "Fire drills (rootwatch drill, on the sandbox only here): one marked root-shaped record per account,"; \
	echo "watched through datapoint, ALARM and the alarm action (each drill's full output: <bundle>.log):"; \
	for acct in healthy drifted; do \
	  $(BIN)/rootwatch drill $(DEMO_PARAMS) --account $$acct --yes --out $$out-drill-$$acct > $$out-drill-$$acct.log 2>&1; \
	  d=$$?; case $$d in 0|1|3) ;; *) tail -3 $$out-drill-$$acct.log >&2; echo "make demo: the $$acct drill exited $$d" >&2; exit $$d;; esac; \
	  echo "  $$acct (exit $$d): $$(tail -1 $$out-drill-$$acct.log)"; \
	done; \
	case $$rc in 0) said="every control PASS";; 1) said="a control FAILs";; 3) said="evidence gaps, no FAIL";; esac; \
	echo; echo "The signed evidence bundle is $$out/ (exit $$rc: $$said). Open:"; \
	echo "  $$out/report.html"; \
	test -f $$out/report.pdf && echo "  $$out/report.pdf"; \
	echo "Verify it (and each drill's bundle) as an auditor would, pinning the signer (README, 'Verifying a bundle';"; \
	echo "the demo signs with the development key):"; \
	echo "  $(BIN)/rootwatch verify $$out --trusted-key $${XDG_CONFIG_HOME:-$$HOME/.config}/rootwatch/signing/dev_ed25519.pub"

lab: $(VENV)/.installed-lab bytecode
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 notebooks/

lock: $(VENV)/.installed-dev
	$(BIN)/python lock/refresh.py

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/patterns.py

bench-run: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/run.py

bench-org: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/collect_org.py

bench-history: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/history.py

bench-archive: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/scan_archive.py

bench-startup: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build
	find lib -name __pycache__ -prune -exec rm -rf {} +
