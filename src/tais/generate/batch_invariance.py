"""vLLM's batch-invariant mode (VLLM_BATCH_INVARIANT=1): where it runs, and arms without it.

Read from vLLM 0.32's own source (model_executor/determinism/batch_invariant.py,
`enable_batch_invariant_mode`): on CUDA GPUs of compute capability 8.x (Ampere, Ada) and on
ROCm it replaces aten's matmuls with persistent Triton kernels; on other CUDA GPUs it only sets
cuBLAS workspace variables, written for Hopper (9.x) and Blackwell (10.x, 12.x); XPU has its own
overrides. There is no CPU path. TAIS runs batch-invariant arms on CUDA capability 8.0 and newer
(the older GPUs would take the Hopper branch, which nothing claims for them), and skips them
elsewhere with the reason, so a GPU profile still runs on a machine without them.

The mode is an environment variable that vLLM reads once per process (its env cache is turned
on when an engine starts), so such an arm gets an engine process of its own (worker_pool).
"""

from __future__ import annotations

import shutil
import subprocess

from tais.config.config import ExperimentConfig

ENV = "VLLM_BATCH_INVARIANT"
SUPPORTED = "CUDA GPUs of compute capability 8.0 and newer (Ampere, Ada, Hopper, Blackwell)"


def compute_capabilities() -> list[float]:
    """Each visible NVIDIA GPU's compute capability, from nvidia-smi (no torch import)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        done = subprocess.run(
            [exe, "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for line in done.stdout.splitlines():
        try:
            found.append(float(line.strip()))
        except ValueError:
            continue
    return found


def unsupported_reason(capabilities: list[float]) -> str | None:
    """Why batch-invariant arms cannot run here; None when every GPU can run them."""
    if not capabilities:
        return f"no NVIDIA GPU visible; vLLM 0.32's batch-invariant kernels run on {SUPPORTED}"
    old = [c for c in capabilities if c < 8.0]
    if old:
        return f"GPU compute capability {min(old)} < 8.0; the mode is for {SUPPORTED}"
    return None


def without_batch_invariant(config: ExperimentConfig) -> ExperimentConfig:
    """The config without its batch-invariant arms and every contrast or member naming one."""
    dropped = {arm.name for arm in config.arms if arm.batch_invariant}
    if not dropped:
        return config
    return config.model_copy(
        update={
            "arms": [a for a in config.arms if a.name not in dropped],
            "contrasts": [c for c in config.contrasts if c.a not in dropped and c.b not in dropped],
            "members": [m for m in config.members if m.arm not in dropped],
        }
    )
