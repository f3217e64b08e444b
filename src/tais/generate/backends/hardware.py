"""What an arm ran on, measured by the process that ran it (never inferred from package names).

Facts are flat strings, as ArmRun.versions holds them: an arm's versions and its hardware go to
environment.json side by side. A fact that cannot be measured says why instead of failing the
arm: the outputs are already in hand when these are asked.
"""

from __future__ import annotations

import os
import shutil
import subprocess

NVIDIA_SMI_QUERY = ["--query-gpu=driver_version,name", "--format=csv,noheader"]
NVIDIA_SMI_TIMEOUT_S = 30.0
NOT_IN_IMAGE = "not run in the TAIS image"


def nvidia_smi() -> dict[str, str]:
    """The NVIDIA driver version and the host's GPUs as nvidia-smi lists them ("none" when
    there is no nvidia-smi). nvidia-smi lists every GPU of the host, not only the arm's."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return {"nvidia_driver": "none"}
    try:
        done = subprocess.run(
            [exe, *NVIDIA_SMI_QUERY],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"nvidia_driver": f"nvidia-smi failed: {exc}"}
    if done.returncode != 0:
        said = (done.stdout + done.stderr).strip().splitlines()
        return {
            "nvidia_driver": f"nvidia-smi failed (exit {done.returncode})"
            + (f": {said[0]}" if said else "")
        }
    return parse_nvidia_smi(done.stdout)


def parse_nvidia_smi(text: str) -> dict[str, str]:
    """`driver_version, name` lines (one per GPU) -> driver version(s) and the GPUs' names."""
    drivers: list[str] = []
    names: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        driver, _, name = line.partition(",")
        if driver.strip() not in drivers:
            drivers.append(driver.strip())
        names.append(name.strip() or "unnamed")
    if not names:
        return {"nvidia_driver": "none", "host_gpus": "none"}
    return {"nvidia_driver": ", ".join(drivers), "host_gpus": ", ".join(names)}


def torch_devices() -> dict[str, str]:
    """The GPUs this process's torch sees (those the arm may use) and its CUDA runtime."""
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    names = [torch.cuda.get_device_name(i) for i in range(count)]
    return {
        "gpu": ", ".join(names) or "none",
        "gpu_count": str(count),
        "cuda_runtime": torch.version.cuda or "none",
    }


def image() -> dict[str, str]:
    """The base image as built (set by the Dockerfile), so an arm run elsewhere says so."""
    return {"image": os.environ.get("TAIS_BASE_IMAGE", NOT_IN_IMAGE)}


def engine_hardware() -> dict[str, str]:
    """Everything above, for an engine running in this process (or its children)."""
    return {**torch_devices(), **nvidia_smi(), **image()}
