"""Recovery of an arm's raw files after a kill, without the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tais.config.places import RunPlaces
from tais.errors import DataError
from tais.generate.arms import check_fingerprint, recover_arm
from tais.generate.generate import load_generations
from tais.io import append_jsonl, read_jsonl
from tais.records import ChunkStat, Generation, SpecCounters


def gen(chunk: int, i: int) -> Generation:
    return Generation(
        item_id=f"x/{i}",
        pair="p",
        arm="a",
        chunk=chunk,
        text="t",
        token_ids=[1, 2],
        output_sha256="h",
        n_tokens=2,
        finish_reason="stop",
    )


def stat(chunk: int) -> ChunkStat:
    return ChunkStat(chunk=chunk, n_items=2, n_tokens=4, wall_s=0.1, counters=SpecCounters())


def test_unfinished_chunk_and_cut_line_are_dropped(tmp_path: Path) -> None:
    places = RunPlaces(tmp_path)
    append_jsonl(places.generations("a"), [gen(0, 0), gen(0, 1)])
    append_jsonl(places.chunks("a"), [stat(0)])
    append_jsonl(places.generations("a"), [gen(1, 2), gen(1, 3)])  # chunk 1 has no stat yet
    with places.generations("a").open("a") as fh:
        fh.write('{"item_id": "x/4", "pa')  # killed mid-line
    done = recover_arm(places, "a")
    assert sorted(done) == [0]
    assert [g.item_id for g in read_jsonl(places.generations("a"), Generation)] == ["x/0", "x/1"]


def test_fingerprint_mismatch_is_refused(tmp_path: Path) -> None:
    places = RunPlaces(tmp_path)
    check_fingerprint(places, "a", "one")
    check_fingerprint(places, "a", "one")
    with pytest.raises(DataError, match="different config, battery or model files"):
        check_fingerprint(places, "a", "two")


def test_duplicate_generation_is_refused(tmp_path: Path) -> None:
    places = RunPlaces(tmp_path)
    append_jsonl(places.generations("a"), [gen(0, 0), gen(0, 1), gen(1, 2), gen(0, 1)])
    path = places.generations("a")
    with pytest.raises(DataError, match=rf"{path}: arm 'a' item 'x/1' appears twice"):
        load_generations(places, "a")
