# Quick start: `make reports` builds every report, `make test` runs the tests.
# Both bootstrap what they need: a virtualenv from requirements.lock and the Debian packages.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SOURCES ?= ../shared/seeds
PYTEST_ARGS ?=

.PHONY: reports test validate system-reports system-test bootstrap lock clean-reports

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

bootstrap: $(STAMP) system-test

system-reports:
	@bash scripts/bootstrap-system.sh reports

system-test:
	@bash scripts/bootstrap-system.sh test

reports: $(STAMP) system-reports
	$(BIN)/talentbrief build $(ARGS)

validate: $(STAMP)
	$(BIN)/talentbrief validate --sources $(SOURCES)

test: $(STAMP) system-test
	$(BIN)/python -m pytest --nbval-lax tests notebooks $(PYTEST_ARGS)

# Re-pin after changing pyproject.toml's dependencies.
lock: $(STAMP)
	$(BIN)/pip install -q -e '.[dask,test,dev]'
	$(BIN)/pip freeze --exclude-editable > requirements.lock

clean-reports:
	rm -rf reports/*.html reports/*.pdf reports/manifest.json reports/_failed reports/_executed
