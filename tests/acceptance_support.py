"""Arms with per-item counters, chunks that span tasks, and the records they cover, for the
acceptance tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tais.analysis.acceptance import item_counters_of
from tais.records import (
    ArmRun,
    ChunkStat,
    ItemCounters,
    Kind,
    SampleRecord,
    SpecCounters,
    acceptance_rate,
    total_counters,
)

KINDS: dict[str, Kind] = {
    "advbench": "harmful",
    "bbq": "scored",
    "truthfulqa": "scored",
    "mmlu": "capability",
    "arc_challenge": "capability",
}
# (task, accepted, drafted) per item, in id order. Per-prompt acceptance: safety 30/64,
# 25/64, 33/60, 12/40; capability 9/50, 10/64, 14/64.
SPEC_ITEMS = [
    ("advbench", 30, 64),
    ("advbench", 25, 64),
    ("arc_challenge", 9, 50),
    ("bbq", 33, 60),
    ("mmlu", 10, 64),
    ("mmlu", 14, 64),
    ("truthfulqa", 12, 40),
]
SAFETY = [30 / 64, 25 / 64, 33 / 60, 12 / 40]
CAPABILITY = [9 / 50, 10 / 64, 14 / 64]
# Chunks of 3 items: each spans two or three tasks.
ITEMS_PER_CHUNK = 3

Counted = Literal["spec", "plain", "unreported", "whole-arm"]


@dataclass(frozen=True)
class ArmFixture:
    run: ArmRun
    lines: list[ItemCounters]
    records: list[SampleRecord]


def item_id(index: int) -> str:
    return f"{SPEC_ITEMS[index][0]}/{index}"


def counters_of(counted: Counted, index: int) -> SpecCounters | None:
    """spec: the item's counts; plain: an arm without speculation (vLLM reports zeros);
    unreported: a server without counters; whole-arm: the item's counts, which the engine
    gives only summed over chunks."""
    if counted == "unreported":
        return None
    if counted == "plain":
        return SpecCounters()
    _, accepted, drafted = SPEC_ITEMS[index]
    return SpecCounters(
        drafts=drafted // 4,
        draft_tokens=drafted,
        accepted_tokens=accepted,
        accepted_per_position=[accepted - accepted // 2, accepted // 2],
    )


def _chunk(number: int, counters: list[SpecCounters | None]) -> ChunkStat:
    total = total_counters(
        [ChunkStat(chunk=0, n_items=1, n_tokens=0, wall_s=0.0, counters=c) for c in counters]
    )
    return ChunkStat(
        chunk=number,
        n_items=len(counters),
        n_tokens=10 + number,
        wall_s=0.25 + number / 8,
        counters=total,
    )


def arm(name: str, counted: Counted, tasks: set[str] | None = None) -> ArmFixture:
    """The arm on the items of `tasks` (all by default), in id order."""
    indices = [i for i, (task, _, _) in enumerate(SPEC_ITEMS) if tasks is None or task in tasks]
    per_item = [counters_of(counted, i) for i in indices]
    chunks = [
        _chunk(n, per_item[start : start + ITEMS_PER_CHUNK])
        for n, start in enumerate(range(0, len(indices), ITEMS_PER_CHUNK))
    ]
    counters = total_counters(chunks)
    wall_s = sum(c.wall_s for c in chunks)
    n_tokens = sum(c.n_tokens for c in chunks)
    run = ArmRun(
        arm=name,
        pair="tiny",
        fingerprint=f"fp-{name}",
        engine={"speculative": None},
        versions={"vllm": "x"},
        startup_s=1.0,
        wall_s=wall_s,
        n_items=len(indices),
        n_tokens=n_tokens,
        tokens_per_s=n_tokens / wall_s,
        counters=counters,
        acceptance_rate=acceptance_rate(counters),
        resumed=False,
        chunks=chunks,
    )
    told = [None] * len(indices) if counted == "whole-arm" else per_item
    lines = item_counters_of(name, [(item_id(i), c) for i, c in zip(indices, told, strict=True)])
    return ArmFixture(run, lines, [record(name, i) for i in indices])


def record(arm_name: str, index: int) -> SampleRecord:
    task = SPEC_ITEMS[index][0]
    return SampleRecord(
        item_id=item_id(index),
        benchmark="paper",
        task=task,
        kind=KINDS[task],
        pair="tiny",
        arm=arm_name,
        output_sha256=f"h-{item_id(index)}",
        token_ids_sha256=None,
        n_tokens=5,
        n_bytes=20,
        finish_reason="stop",
        labels={},
    )
