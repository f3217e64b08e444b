"""Two experiments sharing one arm on the real engine: generated once, published alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tais.config.places import PublishPlaces
from tais.generate.arm_store import FOLDER
from tais.io import read_jsonl
from tais.pipeline import run_screen
from tais.records import ArmPerformance, PublishedArm
from tais.verify.verify import verify

from .engine_support import QuietProgress, demo_data, write_config

pytestmark = pytest.mark.engine

SHARED = {
    "target": "bundle/models/tiny-target",
    "speculative": {
        "method": "draft_model",
        "model": "bundle/models/tiny-draft",
        "num_speculative_tokens": 3,
        "acceptance": "strict",
    },
}
REPRODUCIBLE = [
    "config.yaml",
    "records.jsonl",
    "divergences.jsonl",
    "arms.jsonl",
    "battery.json",
    "summary.json",
    "report.md",
]


def experiment(tmp_path: Path, name: str, arm: str, pair: str) -> Path:
    data: dict[str, Any] = demo_data()
    data["experiment"] = name
    data["battery"][0]["limit"] = 4
    data["arms"] = [{"name": arm, "pair": pair, **SHARED}]
    data["contrasts"] = []
    return write_config(tmp_path / f"{name}.yaml", data)


def test_a_shared_arm_is_generated_once_and_published_as_if_generated(tmp_path: Path) -> None:
    first = experiment(tmp_path, "share-a", "spec", "tiny")
    second = experiment(tmp_path, "share-b", "shared", "other")
    runs, root = tmp_path / "runs", tmp_path / "root"
    run_screen(first, QuietProgress(), runs_dir=runs, root=root)

    started: list[str] = []

    class Counting(QuietProgress):
        def arm_started(self, arm: str, total: int, done: int) -> None:
            started.append(arm)

    reused = run_screen(second, Counting(), runs_dir=runs, root=root)
    assert started == []  # no engine for share-b
    assert len(list((runs / FOLDER).iterdir())) == 1

    fresh = run_screen(
        second, QuietProgress(), runs_dir=tmp_path / "fresh-runs", root=tmp_path / "fresh"
    )
    for name in REPRODUCIBLE:
        assert (reused.out_dir / name).read_bytes() == (fresh.out_dir / name).read_bytes(), name
    (arm,) = read_jsonl(PublishPlaces(reused.out_dir).arms, PublishedArm)
    assert arm.engine["speculative_config"]["rejection_sample_method"] == "standard"
    assert arm.engine["speculative_config"]["draft_sample_method"] == "greedy"
    # Only the volatile measurements say that the arm was reused, and from where.
    (measured,) = read_jsonl(PublishPlaces(reused.out_dir).performance, ArmPerformance)
    assert measured.reused_from == "share-a/spec"
    report = PublishPlaces(reused.out_dir).performance_report.read_text()
    assert "| shared | share-a/spec |" in report
    assert "reused" not in PublishPlaces(fresh.out_dir).performance_report.read_text()
    assert reused.summary.verdict.verdict == "INCONCLUSIVE"  # no contrast: rates only
    assert verify(root) == ["share-a", "share-b"]
