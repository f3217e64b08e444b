"""Arms that share an engine process give the records they give in processes of their own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tais.battery.battery import build_battery
from tais.config.config import parse_config
from tais.config.places import RunPlaces
from tais.errors import EngineError
from tais.generate.generate import generate
from tais.io import read_jsonl
from tais.records import ChunkStat, Generation

from .conftest import MODELS
from .engine_support import QuietProgress, demo_data

pytestmark = pytest.mark.engine

SHARED = ["target_only", "draft_k3", "ngram_k3"]


def small_demo(arms: list[dict[str, Any]]) -> dict[str, Any]:
    data = demo_data()
    data["battery"][0]["limit"] = 4
    data["engine"]["batch_size"] = 4  # several chunks per arm
    data["arms"] = arms
    data["contrasts"] = []
    return data


def run(data: dict[str, Any], runs: Path) -> RunPlaces:
    config = parse_config(data)
    places = RunPlaces.for_experiment(runs, config.experiment)
    generate(config, build_battery(config), places, QuietProgress())
    return places


def outputs(places: RunPlaces, arm: str) -> tuple[list[Any], list[Any]]:
    gens = read_jsonl(places.generations(arm), Generation)
    stats = read_jsonl(places.chunks(arm), ChunkStat)
    return (
        [(g.item_id, g.chunk, g.text, g.token_ids) for g in gens],
        [(s.chunk, s.n_items, s.n_tokens, s.counters) for s in stats],
    )


def worker_pid(places: RunPlaces, arm: str) -> str:
    found = re.search(r"^tais worker pid (\d+): arm ", places.log(arm).read_text(), re.M)
    assert found, f"no worker line in {places.log(arm)}"
    return found.group(1)


def test_arms_in_one_process_match_arms_in_their_own(tmp_path: Path) -> None:
    demo_arms = {arm["name"]: arm for arm in demo_data()["arms"]}
    broken = tmp_path / "broken-draft"
    shutil.copytree(MODELS / "tiny-draft", broken)
    (broken / "model.safetensors").write_bytes(b"not a checkpoint")
    broken_arm = {**demo_arms["draft_k3"], "name": "broken_draft"}
    broken_arm["speculative"] = {**broken_arm["speculative"], "model": str(broken)}

    shared = small_demo([demo_arms[name] for name in SHARED] + [broken_arm])
    with pytest.raises(EngineError, match=r"arm broken_draft: engine failed to start"):
        run(shared, tmp_path / "shared")
    places = RunPlaces.for_experiment(tmp_path / "shared", shared["experiment"])

    # The ngram drafter loads numba, after which vLLM 0.32 cannot start another engine in the
    # process: the arm after it gets a fresh one.
    pids = [worker_pid(places, name) for name in [*SHARED, "broken_draft"]]
    assert pids[0] == pids[1] == pids[2] != pids[3]

    for name in SHARED[1:]:  # the arms that ran after another in the same process
        alone = run(small_demo([demo_arms[name]]), tmp_path / name)
        gens, stats = outputs(places, name)
        assert len(gens) == 12 and len(stats) == 3
        assert sum(counters.draft_tokens for *_, counters in stats if counters is not None)
        assert (gens, stats) == outputs(alone, name), name
