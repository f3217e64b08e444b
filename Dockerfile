# Pinned GPU image for the paper-scale experiments (make e0 ...). The base image carries
# vLLM 0.32.0 with CUDA; TAIS adds itself and its pinned pure-Python dependencies.
FROM vllm/vllm-openai:v0.32.0

ENV HF_HUB_OFFLINE=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    VLLM_CACHE_ROOT=/work/.cache/vllm

WORKDIR /work
COPY pyproject.toml README.md Makefile manifest.yaml ./
COPY src ./src
COPY bundle ./bundle
COPY validation ./validation
COPY tests ./tests
COPY scripts ./scripts

# vLLM comes from the base image; install TAIS, the dev tools and Ray (`--executor ray`).
RUN pip install --no-cache-dir -e ".[dev,ray]" && tais --version

ENTRYPOINT ["tais"]
CMD ["--help"]
