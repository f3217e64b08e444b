"""kill -9 during an arm, run again: the final records equal an uninterrupted run's, with
chunks that span tasks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tais.generate.arms import battery_chunks
from tais.io import read_jsonl
from tais.pipeline import run_screen
from tais.records import ChunkStat, Generation, Item, SpecCounters

from .conftest import ROOT
from .engine_support import QuietProgress, demo_data, write_config

pytestmark = pytest.mark.engine

# Many small chunks, so the kill lands mid-arm; 7 does not divide a task's 100 items, so
# chunks span tasks.
BATCH = 7


def count_lines(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def test_kill_and_resume_equals_uninterrupted(tmp_path: Path) -> None:
    data = demo_data()
    data["experiment"] = "resume"
    data["arms"] = data["arms"][:1]
    data["contrasts"] = []
    data["engine"]["batch_size"] = BATCH
    config = write_config(tmp_path / "resume.yaml", data)

    reference = run_screen(
        config, QuietProgress(), runs_dir=tmp_path / "ref-runs", root=tmp_path / "ref"
    )

    runs = tmp_path / "runs"
    chunks = runs / "resume" / "generations" / "target_only.chunks.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tais.cli",
            "run",
            str(config),
            "--runs-dir",
            str(runs),
            "--root",
            str(tmp_path / "resumed"),
        ],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while count_lines(chunks) < 3:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no chunk finished within 300 s"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    items = read_jsonl(runs / "resume" / "battery.jsonl", Item)
    plan = battery_chunks(items, BATCH)
    total_chunks = len(plan)
    assert count_lines(chunks) < total_chunks, "the kill came after the arm had finished"

    resumed = run_screen(config, QuietProgress(), runs_dir=runs, root=tmp_path / "resumed")

    def generations(root: Path) -> list[tuple[str, int, str, list[int]]]:
        gens = read_jsonl(root / "resume" / "generations" / "target_only.jsonl", Generation)
        return [(g.item_id, g.chunk, g.text, g.token_ids) for g in gens]

    ref_gens, resumed_gens = generations(tmp_path / "ref-runs"), generations(runs)
    assert len({g[0] for g in resumed_gens}) == len(resumed_gens) == 300
    assert resumed_gens == ref_gens
    # The resumed run's batches are the plan's, as an uninterrupted run's are.
    stats = read_jsonl(chunks, ChunkStat)
    assert [s.chunk for s in stats] == list(range(total_chunks))
    assert [s.n_items for s in stats] == [len(c) for c in plan]
    for number, planned in enumerate(plan):
        assert [g[0] for g in resumed_gens if g[1] == number] == [i.item_id for i in planned]
    assert any(len({i.task for i in c}) > 1 for c in plan)
    # Target-only: every output counts zero drafts, and acceptance by task is still derived.
    gens = read_jsonl(runs / "resume" / "generations" / "target_only.jsonl", Generation)
    assert all(g.counters == SpecCounters() for g in gens)
    acceptance = json.loads((resumed.out_dir / "volatile" / "acceptance.json").read_text())
    (arm,) = acceptance["arms"]
    assert arm["reported"] and sum(t["items"] for t in arm["tasks"].values()) == 300
    ref_records = (reference.out_dir / "records.jsonl").read_bytes()
    assert (resumed.out_dir / "records.jsonl").read_bytes() == ref_records
