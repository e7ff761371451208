# Quick start: `make reports` builds every report, `make test` runs the tests.
# Both bootstrap what they need: the Debian packages, then a virtualenv from the pinned locks:
# requirements.lock (what a build needs) for reports; the test, lab and dask locks add their extras.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SOURCES ?= ../shared/seeds
PYTEST_ARGS ?=
# uv installs the locks (several times faster than pip on a fresh machine); INSTALLER=pip uses pip.
INSTALLER ?= uv
UV_VERSION := 0.13.8

STAMP      := $(VENV)/.installed
STAMP_LAB  := $(VENV)/.installed-lab
STAMP_TEST := $(VENV)/.installed-test
STAMP_DASK := $(VENV)/.installed-dask
KERNEL := $(VENV)/share/jupyter/kernels/talentbrief/kernel.json

.PHONY: reports test check lint validate doctor system-reports system-test bootstrap lock clean-reports lab dask snapshots

# install LOCK into the venv: uv when it can (pip otherwise), the project itself editable, no deps.
define install
	@if [ "$(INSTALLER)" = uv ] && { [ -x $(BIN)/uv ] || $(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION); }; then \
	  echo "installing $(1) with uv"; \
	  UV_NATIVE_TLS=1 $(BIN)/uv pip install -q --python $(BIN)/python -r $(1) && \
	  UV_NATIVE_TLS=1 $(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .; \
	else \
	  echo "installing $(1) with pip"; \
	  $(BIN)/pip install -q --disable-pip-version-check -r $(1) && \
	  $(BIN)/pip install -q --disable-pip-version-check --no-deps -e .; \
	fi
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(call install,requirements.lock)
	touch $@

$(STAMP_LAB): requirements-lab.lock $(STAMP)
	$(call install,requirements-lab.lock)
	touch $@

$(STAMP_DASK): requirements-dask.lock $(STAMP)
	$(call install,requirements-dask.lock)
	touch $@

# The whole suite needs every extra: JupyterLab (test_lab), Dask (test_dask_executor), the linters.
$(STAMP_TEST): requirements-test.lock $(STAMP)
	$(call install,requirements-test.lock)
	touch $@ $(STAMP_LAB) $(STAMP_DASK)

# The `talentbrief` Jupyter kernel the notebooks name (JupyterLab and nbval use it; builds do not need it).
$(KERNEL): $(STAMP) src/talentbrief/kernelspec.py src/talentbrief/engine.py
	$(BIN)/python -m talentbrief.kernelspec

# The Debian packages come first: on a bare image they bring python3-venv itself.
bootstrap: system-test $(STAMP_TEST) $(KERNEL)

# JupyterLab on the whole project (notebooks first), with the project's kernel; saves strip outputs.
lab: system-reports $(STAMP_LAB) $(KERNEL)
	$(BIN)/jupyter lab --config=jupyter_lab_config.py $(ARGS)

system-reports:
	@bash scripts/bootstrap-system.sh reports

system-test:
	@bash scripts/bootstrap-system.sh test

reports: system-reports $(STAMP)
	$(BIN)/talentbrief doctor
	$(BIN)/talentbrief build $(ARGS)

validate: system-reports $(STAMP)
	$(BIN)/talentbrief validate --sources $(SOURCES)

test: system-test $(STAMP_TEST) $(KERNEL)
	$(BIN)/python -m pytest --nbval-lax tests notebooks $(PYTEST_ARGS)

# The quick tier for the edit-test loop: unit, data and catalogue tests and one end-to-end build.
check: system-test $(STAMP_TEST) $(KERNEL)
	$(BIN)/python -m pytest -m quick -n 2 -p no:cacheprovider tests $(PYTEST_ARGS)

# ruff over the code, the tests, the benchmarks and the notebooks; import-linter over the two sides
# (pyproject's contracts). .ci/run runs it.
lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks notebooks jupyter_lab_config.py
	$(BIN)/lint-imports

# --executor dask: dask and distributed, pinned as the client's.
dask: $(STAMP_DASK)

# After a deliberate change of wording: rebuild, then rewrite tests/snapshots/ (the visible text of every
# report, checked by tests/test_snapshots.py); review and commit their diff with the change.
snapshots: system-reports $(STAMP_TEST)
	$(BIN)/talentbrief build $(ARGS)
	$(BIN)/python -m tests.support.snapshots reports tests/snapshots

doctor: $(STAMP)
	$(BIN)/talentbrief doctor

# Re-pin after changing pyproject.toml's dependencies: each lock resolved from pyproject, kept to the
# versions the runtime lock already has (delete a line of it to let that package move).
lock: $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	for extra in "" lab dask "test --extra lab --extra dask --extra dev"; do \
	  name=$${extra%% *}; lock=requirements$${name:+-$$name}.lock; cp $$lock $(VENV)/pinned.lock; \
	  UV_NATIVE_TLS=1 $(BIN)/uv pip compile -q --no-header --no-annotate -c $(VENV)/pinned.lock \
	    $$( [ -n "$$name" ] && echo "-c requirements.lock --extra $$extra" ) pyproject.toml -o $$lock || exit 1; \
	done

clean-reports:
	rm -rf reports/*.html reports/*.pdf reports/manifest.json reports/_failed reports/_executed
