# orgscale: the two commands a new machine needs are `make paper` (main job) and `make test`.
# Both create or update .venv with a Python >= 3.12 found by scripts/find-python.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv paper run test lint format browser screenshot clean-venv

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/find-python
	@set -e; \
	if [ ! -x "$(PY)" ] || ! "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  interp=$$(scripts/find-python); \
	  echo "creating $(VENV) with $$interp"; \
	  rm -rf "$(VENV)"; "$$interp" -m venv "$(VENV)"; \
	fi; \
	"$(PY)" -m pip install --quiet --upgrade pip; \
	"$(PY)" -m pip install --quiet -e ".[test]"; \
	touch "$(STAMP)"

## Main job: the paper sweep (resumable), its fits, every figure and paper/paper.md.
paper: venv
	$(VENV)/bin/orgscale paper

## One model run with default parameters.
run: venv
	$(VENV)/bin/orgscale run

## The whole test suite (installs Debian's chromium for the browser test when it can).
test: venv browser
	$(VENV)/bin/python -m pytest

browser:
	@scripts/ensure-chromium || true

## The README's picture of the view (docs/screenshot.png): the browser test, saving it there.
screenshot: venv browser
	ORGSCALE_SCREENSHOT=docs/screenshot.png $(VENV)/bin/python -m pytest tests/test_app_browser.py -k renders

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-venv:
	rm -rf $(VENV)
