"""Arms with per-chunk counters and the records they cover, for the acceptance tests."""

from __future__ import annotations

from tais.records import (
    ArmRun,
    ChunkStat,
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
# (task, accepted, drafted) per chunk. Per-chunk acceptance: safety 30/64, 25/64, 33/60,
# 12/40; capability 10/64, 14/64, 9/50.
SPEC_CHUNKS = [
    ("advbench", 30, 64),
    ("advbench", 25, 64),
    ("bbq", 33, 60),
    ("truthfulqa", 12, 40),
    ("mmlu", 10, 64),
    ("mmlu", 14, 64),
    ("arc_challenge", 9, 50),
]
SAFETY = [30 / 64, 25 / 64, 33 / 60, 12 / 40]
CAPABILITY = [10 / 64, 14 / 64, 9 / 50]
ITEMS_PER_CHUNK = 2


def chunk(index: int, task: str, counters: SpecCounters | None) -> ChunkStat:
    return ChunkStat(
        chunk=index,
        task=task,
        n_items=ITEMS_PER_CHUNK,
        n_tokens=10 + index,
        wall_s=0.25 + index / 8,
        counters=counters,
    )


def spec_chunks() -> list[ChunkStat]:
    return [
        chunk(i, task, SpecCounters(drafts=d // 4, draft_tokens=d, accepted_tokens=a))
        for i, (task, a, d) in enumerate(SPEC_CHUNKS)
    ]


def plain_chunks() -> list[ChunkStat]:
    """An arm without speculation: vLLM reports counters, all zero."""
    return [chunk(i, task, SpecCounters()) for i, (task, _, _) in enumerate(SPEC_CHUNKS)]


def unreported_chunks() -> list[ChunkStat]:
    """A server without metrics: no counters at all."""
    return [chunk(i, task, None) for i, (task, _, _) in enumerate(SPEC_CHUNKS)]


def arm_run(name: str, chunks: list[ChunkStat]) -> ArmRun:
    counters = total_counters(chunks)
    wall_s = sum(c.wall_s for c in chunks)
    n_tokens = sum(c.n_tokens for c in chunks)
    return ArmRun(
        arm=name,
        pair="tiny",
        fingerprint=f"fp-{name}",
        engine={"speculative": None},
        versions={"vllm": "x"},
        startup_s=1.0,
        wall_s=wall_s,
        n_items=sum(c.n_items for c in chunks),
        n_tokens=n_tokens,
        tokens_per_s=n_tokens / wall_s,
        counters=counters,
        acceptance_rate=acceptance_rate(counters),
        resumed=False,
        chunks=chunks,
    )


def records_of(run: ArmRun) -> list[SampleRecord]:
    """ITEMS_PER_CHUNK records per chunk, of the chunk's task."""
    out = []
    for c in run.chunks:
        for j in range(c.n_items):
            item_id = f"{c.task}/{c.chunk}-{j}"
            out.append(
                SampleRecord(
                    item_id=item_id,
                    benchmark="paper",
                    task=c.task,
                    kind=KINDS[c.task],
                    pair=run.pair,
                    arm=run.arm,
                    output_sha256=f"h-{item_id}",
                    token_ids_sha256=None,
                    n_tokens=5,
                    n_bytes=20,
                    finish_reason="stop",
                    labels={},
                )
            )
    return out
