"""The ray executor on a real Ray cluster on this machine (2 CPUs, no GPU).

The demo's kinds of arms on a slice of its battery give the local executor's records byte for
byte; a worker killed mid-arm fails that arm alone (named with its node), and the next run
completes it; a driver killed mid-run leaves whole chunks, and the next run completes it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tais.config.places import VOLATILE
from tais.errors import ConfigError, EngineError
from tais.generate.arms import battery_chunks
from tais.io import read_jsonl
from tais.pipeline import ScreenResult, run_screen
from tais.records import Generation, Item
from tests.ray_cluster import ray_address_fixture  # noqa: F401  (pytest fixture)

from .conftest import ROOT
from .engine_support import QuietProgress, demo_data, write_config
from .http_support import small_battery

N_ITEMS = 24  # every 12th demo item: all three tasks
BATCH = 4  # several chunks per arm, so that a kill lands mid-arm
# One demo arm of each kind: none, a draft model and n-gram (the adversarial draft is a draft
# model too, and would add an engine start to the default test run).
DEMO_ARMS = ("target_only", "draft_k3", "ngram_k3")
KILLED = ("target_only", "ngram_k3")  # the kill tests' arms: the engine's fastest to start
TIMEOUT_S = 600


@pytest.fixture(name="battery", scope="module")
def battery_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file for every run: its path is part of the published config."""
    return small_battery(tmp_path_factory.mktemp("slice") / "battery.jsonl", N_ITEMS, step=12)


def slice_config(
    tmp_path: Path, battery: Path, arms: tuple[str, ...] = DEMO_ARMS, **engine: object
) -> Path:
    data = demo_data()
    data["experiment"] = "ray-slice"
    data["battery"] = [{"benchmark": "tais-demo", "path": str(battery)}]
    data["engine"].update(batch_size=BATCH, max_tokens=16, **engine)
    data["arms"] = [a for a in data["arms"] if a["name"] in arms]
    data["contrasts"] = [{"a": "target_only", "b": b} for b in arms if b != "target_only"]
    return write_config(tmp_path / "ray-slice.yaml", data)


def screen(config: Path, runs: Path, root: Path, **how: Any) -> ScreenResult:
    return run_screen(config, QuietProgress(), runs_dir=runs, root=root, **how)


@pytest.fixture(name="reference", scope="module")
def reference_fixture(tmp_path_factory: pytest.TempPathFactory, battery: Path) -> tuple[Path, Path]:
    """The slice through the local executor: its runs/ and its published folder."""
    tmp = tmp_path_factory.mktemp("local")
    result = screen(slice_config(tmp, battery), tmp / "runs", tmp / "root")
    return tmp / "runs" / "ray-slice", result.out_dir


def published(folder: Path) -> dict[str, bytes]:
    """Every reproducible published file (volatile/ holds timings and hosts)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and VOLATILE not in p.relative_to(folder).parts
    }


def outputs(runs: Path, arm: str) -> list[tuple[str, int, str, list[int] | None]]:
    gens = read_jsonl(runs / "generations" / f"{arm}.jsonl", Generation)
    return [(g.item_id, g.chunk, g.text, g.token_ids) for g in gens]


def planned_chunks(battery: Path) -> int:
    return len(battery_chunks(read_jsonl(battery, Item), BATCH))


def chunk_count(runs: Path, arm: str) -> int:
    path = runs / "generations" / f"{arm}.chunks.jsonl"
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def start_driver(config: Path, runs: Path, root: Path, address: str) -> subprocess.Popen[bytes]:
    """`tais run --executor ray` in its own session; its messages go to driver.txt beside
    `root`."""
    with (root.parent / "driver.txt").open("wb") as stderr:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tais.cli",
                "run",
                str(config),
                "--executor",
                "ray",
                "--address",
                address,
                "--runs-dir",
                str(runs),
                "--root",
                str(root),
            ],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def wait_for_chunks(proc: subprocess.Popen[bytes], runs: Path, arm: str, n: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while chunk_count(runs, arm) < n:
        assert proc.poll() is None, "the run ended before the kill"
        assert time.monotonic() < deadline, f"no {n} chunks of {arm} within {TIMEOUT_S} s"
        time.sleep(0.05)


@pytest.mark.engine
def test_ray_executor_gives_the_local_records(
    tmp_path: Path, ray_address: str, battery: Path, reference: tuple[Path, Path]
) -> None:
    ref_runs, ref_out = reference
    config = slice_config(tmp_path, battery)
    result = screen(
        config, tmp_path / "runs", tmp_path / "root", executor="ray", address=ray_address
    )
    runs = tmp_path / "runs" / "ray-slice"
    for arm in DEMO_ARMS:
        assert outputs(runs, arm) == outputs(ref_runs, arm)
        assert chunk_count(runs, arm) == planned_chunks(battery)
        assert "runs on Ray node" in (runs / "logs" / f"{arm}.log").read_text()
    assert published(result.out_dir) == published(ref_out)


@pytest.mark.engine
@pytest.mark.slow
def test_killed_worker_fails_its_arm_alone_and_the_rerun_completes_it(
    tmp_path: Path, ray_address: str, battery: Path, reference: tuple[Path, Path]
) -> None:
    ref_runs, _ = reference
    config = slice_config(tmp_path, battery, KILLED)
    runs, root = tmp_path / "runs", tmp_path / "root"
    places = runs / "ray-slice"
    proc = start_driver(config, runs, root, ray_address)
    try:
        wait_for_chunks(proc, places, "target_only", 2)
        placed = (places / "logs" / "target_only.log").read_text()
        worker = int(re.findall(r"worker process (\d+)", placed)[-1])
        os.kill(worker, signal.SIGKILL)
        proc.wait(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 1
    stderr = (tmp_path / "driver.txt").read_text()
    message = " ".join(stderr.split())
    assert "1 of 2 arm(s) failed on the Ray cluster" in message
    assert f"arm target_only on node {os.uname().nodename}" in message
    assert f"worker process {worker}" in message
    assert "Traceback" not in stderr
    assert chunk_count(places, "target_only") < planned_chunks(battery)
    # The other arm went on to its end.
    assert (places / "arms" / "ngram_k3.json").exists()

    screen(config, runs, root, executor="ray", address=ray_address)
    for arm in KILLED:
        assert outputs(places, arm) == outputs(ref_runs, arm)


@pytest.mark.engine
@pytest.mark.slow
def test_killed_driver_leaves_whole_chunks_and_the_rerun_completes(
    tmp_path: Path, ray_address: str, battery: Path, reference: tuple[Path, Path]
) -> None:
    ref_runs, _ = reference
    config = slice_config(tmp_path, battery, KILLED)
    runs, root = tmp_path / "runs", tmp_path / "root"
    places = runs / "ray-slice"
    proc = start_driver(config, runs, root, ray_address)
    try:
        wait_for_chunks(proc, places, "target_only", 2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert chunk_count(places, "target_only") < planned_chunks(battery)

    screen(config, runs, root, executor="ray", address=ray_address)
    for arm in KILLED:
        assert outputs(places, arm) == outputs(ref_runs, arm)
        assert chunk_count(places, arm) == planned_chunks(battery)


def test_an_arm_failing_on_a_worker_is_reported_with_its_node_and_others_go_on(
    tmp_path: Path, ray_address: str
) -> None:
    # The API key's variable is read where the arm runs: both arms fail there, each on its own.
    battery = small_battery(tmp_path / "battery.jsonl", 4)
    endpoint = {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "TAIS_NO_KEY"}
    arms = [
        {"name": n, "pair": "p", "target": n, "endpoint": {**endpoint, "model": n}}
        for n in ("a", "b")
    ]
    data = {
        "experiment": "ray-fail",
        "battery": [{"benchmark": "tais-demo", "path": str(battery)}],
        "arms": arms,
    }
    config = write_config(tmp_path / "fail.yaml", data)
    with pytest.raises(EngineError) as caught:
        screen(config, tmp_path / "runs", tmp_path / "root", executor="ray", address=ray_address)
    message = str(caught.value)
    assert "2 of 2 arm(s) failed on the Ray cluster" in message
    for arm in ("a", "b"):
        assert re.search(
            rf"arm {arm} on node {re.escape(os.uname().nodename)} \(.+\), worker process \d+: "
            rf"arm {arm}: endpoint.api_key_env names TAIS_NO_KEY",
            message,
        ), message


def test_an_arm_wider_than_any_node_is_refused_before_anything_runs(
    tmp_path: Path, ray_address: str, battery: Path
) -> None:
    config = slice_config(tmp_path, battery, ("target_only",), tensor_parallel_size=2)
    with pytest.raises(ConfigError, match=r"tensor_parallel_size 2 needs 2 GPUs on one node"):
        screen(config, tmp_path / "runs", tmp_path / "root", executor="ray", address=ray_address)
    assert chunk_count(tmp_path / "runs" / "ray-slice", "target_only") == 0
