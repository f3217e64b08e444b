"""Each output's own speculative counters (vLLM's per-request metrics) add up, chunk by chunk,
to the engine's global counters read around the chunk: the per-item derivation counts what
the engine counts, offline and from a server tais starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tais.battery.battery import build_battery
from tais.config.config import parse_config
from tais.config.places import RunPlaces
from tais.generate.generate import generate
from tais.io import read_jsonl
from tais.records import ChunkStat, Generation, SpecCounters

from .engine_support import QuietProgress, demo_data

pytestmark = pytest.mark.engine


@pytest.mark.parametrize(
    ("arm_name", "served"), [("draft_k3", False), ("ngram_k3", False), ("draft_k3", True)]
)
def test_item_counters_sum_to_the_chunks_counters(
    tmp_path: Path, arm_name: str, served: bool
) -> None:
    data = demo_data()
    data["battery"][0]["limit"] = 4  # 12 items, 4 of each task
    data["engine"]["batch_size"] = 5  # chunks of 5, 5, 2: the first two span tasks
    data["arms"] = [arm for arm in data["arms"] if arm["name"] == arm_name]
    if served:
        # Above concurrency 1 the chunk's counters are the server's /metrics read around it,
        # and each output's come from its answer alone.
        data["arms"][0].update(serve={}, http={"concurrency": 4})
    data["contrasts"] = []
    config = parse_config(data)
    places = RunPlaces.for_experiment(tmp_path, config.experiment)
    generate(config, build_battery(config), places, QuietProgress())

    gens = read_jsonl(places.generations(arm_name), Generation)
    stats = read_jsonl(places.chunks(arm_name), ChunkStat)
    assert [s.n_items for s in stats] == [5, 5, 2]
    for stat in stats:
        summed = SpecCounters()
        for gen in gens:
            if gen.chunk == stat.chunk:
                assert gen.counters is not None
                summed = summed.plus(gen.counters)
        assert stat.counters is not None
        assert summed == stat.counters, f"chunk {stat.chunk}"
    total = SpecCounters()
    for gen in gens:
        assert gen.counters is not None
        total = total.plus(gen.counters)
    # Something was drafted and accepted: the sums are not vacuous.
    assert total.drafts > 0 and total.accepted_tokens > 0
    assert len(total.accepted_per_position) == 3 and total.accepted_per_position[0] > 0
