from __future__ import annotations

from pathlib import Path

import pytest

from tais.errors import DataError
from tais.io import append_jsonl, read_intact_prefix, read_jsonl
from tais.records import ChunkStat, SpecCounters


def stat(i: int) -> ChunkStat:
    return ChunkStat(chunk=i, n_items=2, n_tokens=10, wall_s=0.5, counters=SpecCounters())


def test_cut_line_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    append_jsonl(path, [stat(0), stat(1)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])
    with pytest.raises(DataError, match=r"records.jsonl:2: line is cut short"):
        read_jsonl(path, ChunkStat)


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(
        '{"chunk": 0, "n_items": 1, "n_tokens": 1, "wall_s": 1, "counters": {}, "extra": 1}\n'
    )
    with pytest.raises(DataError, match="extra"):
        read_jsonl(path, ChunkStat)


def test_intact_prefix_drops_a_cut_tail(tmp_path: Path) -> None:
    path = tmp_path / "raw.jsonl"
    append_jsonl(path, [stat(0), stat(1)])
    with path.open("a") as fh:
        fh.write('{"chunk": 2, "n_ite')
    assert [s.chunk for s in read_intact_prefix(path, ChunkStat)] == [0, 1]
