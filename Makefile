# Quick start: `make reports` builds every report, `make test` runs the tests.
# Both bootstrap what they need: a virtualenv from requirements.lock and the Debian packages.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SOURCES ?= ../shared/seeds
PYTEST_ARGS ?=

KERNEL := $(VENV)/share/jupyter/kernels/talentbrief/kernel.json

.PHONY: reports test validate doctor system-reports system-test bootstrap lock clean-reports lab snapshots

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

# The `talentbrief` Jupyter kernel the notebooks name (JupyterLab and nbval use it; builds do not need it).
$(KERNEL): $(STAMP) src/talentbrief/kernelspec.py src/talentbrief/engine.py
	$(BIN)/python -m talentbrief.kernelspec

# The Debian packages come first: on a bare image they bring python3-venv itself.
bootstrap: system-test $(STAMP) $(KERNEL)

# JupyterLab on the whole project (notebooks first), with the project's kernel; saves strip outputs.
lab: system-reports $(STAMP) $(KERNEL)
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

test: system-test $(STAMP) $(KERNEL)
	$(BIN)/python -m pytest --nbval-lax tests notebooks $(PYTEST_ARGS)

# After a deliberate change of wording: rebuild, then rewrite tests/snapshots/ (the visible text of every
# report, checked by tests/test_snapshots.py); review and commit their diff with the change.
snapshots: system-reports $(STAMP)
	$(BIN)/talentbrief build $(ARGS)
	$(BIN)/python -m tests.support.snapshots reports tests/snapshots

doctor: $(STAMP)
	$(BIN)/talentbrief doctor

# Re-pin after changing pyproject.toml's dependencies.
lock: $(STAMP)
	$(BIN)/pip install -q -e '.[dask,test,dev]'
	$(BIN)/pip freeze --exclude-editable > requirements.lock

clean-reports:
	rm -rf reports/*.html reports/*.pdf reports/manifest.json reports/_failed reports/_executed
