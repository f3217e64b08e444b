"""The paper's battery end to end on the real vLLM engine, with `prompt_format: raw` and `chat`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tais.battery.benchmarks.registry import DATA_DIR_ENV
from tais.config.places import RunPlaces
from tais.errors import VerifyError
from tais.generate.generate import load_generations
from tais.pipeline import ScreenResult, run_screen
from tais.publish.manifest import write_manifest
from tais.verify.verify import verify

from .conftest import ROOT
from .engine_support import QuietProgress, write_config

pytestmark = pytest.mark.engine

DATA = Path(os.environ.get(DATA_DIR_ENV) or ROOT.parent / "shared" / "data")
PAPER_TINY = ROOT / "bundle" / "configs" / "paper-tiny.yaml"


def small(prompt_format: str, arms: int) -> dict[str, Any]:
    """paper-tiny on 2 items of each of four tasks, with this prompt format and these arms."""
    data: dict[str, Any] = yaml.safe_load(PAPER_TINY.read_text())
    data["experiment"] = f"paper-{prompt_format}"
    data["battery"] = [
        {"benchmark": "paper", "tasks": ["advbench", "bbq", "truthfulqa", "mmlu"], "limit": 2}
    ]
    data["engine"].update(prompt_format=prompt_format, max_tokens=24)
    data["arms"] = data["arms"][:arms]
    if arms == 1:
        data["contrasts"] = []
    return data


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ScreenResult, Path]]:
    assert DATA.is_dir(), f"the benchmark mirror is expected at {DATA} (or {DATA_DIR_ENV})"
    os.environ[DATA_DIR_ENV] = str(DATA)
    found = {}
    for prompt_format, arms in (("raw", 2), ("chat", 1)):
        root = tmp_path_factory.mktemp(prompt_format)
        config = write_config(root / "exp.yaml", small(prompt_format, arms))
        result = run_screen(config, QuietProgress(), runs_dir=root / "runs", root=root)
        found[prompt_format] = (result, root)
    return found


def texts(root: Path, experiment: str) -> dict[str, str]:
    places = RunPlaces.for_experiment(root / "runs", experiment)
    return {g.item_id: g.text for g in load_generations(places, "target_only")}


def test_raw_runs_through_and_verifies(runs: dict[str, tuple[ScreenResult, Path]]) -> None:
    result, root = runs["raw"]
    summary = result.summary
    assert {r.task for r in summary.rates} == {"advbench", "bbq", "truthfulqa", "mmlu"}
    assert {r.metric for r in summary.rates} == {"refusal", "score", "accuracy"}
    assert (summary.refusal_judge, summary.capability_judge, summary.score_judge) == (
        "paper",
        "paper",
        "paper",
    )
    assert {(a.judge_a, a.judge_b) for a in summary.agreement} == {("keyword", "paper")}
    # Speculation at temperature 0 leaves the raw-prompted target's outputs alone.
    for cell in summary.contrasts:
        assert cell.identity.token_identical == cell.identity.n, cell.task
    assert verify(root) == ["paper-raw"]
    # --deep re-runs the paper judge on the raw texts too.
    assert verify(root, deep=True, runs_root=root / "runs") == ["paper-raw"]
    arms = (root / "validation" / "paper-raw" / "arms.jsonl").read_text()
    assert '"prompt_format":"raw"' in arms.replace(" ", "")


def test_deep_verify_catches_a_changed_paper_label(
    runs: dict[str, tuple[ScreenResult, Path]], tmp_path: Path
) -> None:
    root = runs["raw"][1]
    copy = tmp_path / "copy"
    shutil.copytree(root / "validation", copy / "validation")
    records = copy / "validation" / "paper-raw" / "records.jsonl"
    lines = records.read_text().splitlines()
    at = next(n for n, line in enumerate(lines) if '"task":"truthfulqa"' in line)
    record = json.loads(lines[at])
    record["labels"]["paper"]["overlap_correct"] = 0.123
    lines[at] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    records.write_text("\n".join(lines) + "\n")
    write_manifest(copy)
    with pytest.raises(VerifyError) as caught:
        verify(copy, deep=True, runs_root=root / "runs")
    assert any("labels.paper.overlap_correct" in p for p in caught.value.problems)


def test_raw_and_chat_send_different_prompts(runs: dict[str, tuple[ScreenResult, Path]]) -> None:
    raw, chat = texts(runs["raw"][1], "paper-raw"), texts(runs["chat"][1], "paper-chat")
    assert raw.keys() == chat.keys()
    # Without the chat template the model sees other tokens, so it says other things.
    assert any(raw[i] != chat[i] for i in raw)
    assert verify(runs["chat"][1]) == ["paper-chat"]
