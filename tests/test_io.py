from __future__ import annotations

import errno
import gc
import os
import stat
from pathlib import Path

import pytest

from tais.errors import DataError
from tais.io import append_jsonl, atomic_write_text, read_intact_prefix, read_jsonl
from tais.publish.manifest import write_manifest
from tais.records import ChunkStat, SpecCounters


def stat_of(i: int) -> ChunkStat:
    return ChunkStat(chunk=i, n_items=2, n_tokens=10, wall_s=0.5, counters=SpecCounters())


def test_cut_line_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    append_jsonl(path, [stat_of(0), stat_of(1)])
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
    append_jsonl(path, [stat_of(0), stat_of(1)])
    with path.open("a") as fh:
        fh.write('{"chunk": 2, "n_ite')
    assert [s.chunk for s in read_intact_prefix(path, ChunkStat)] == [0, 1]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_atomic_write_gives_the_mode_open_would(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "summary.json"
    path.write_text("old\n")
    path.chmod(0o600)
    old = os.umask(umask)
    try:
        atomic_write_text(path, "new\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_atomic_write_rewrites_a_mount_point_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file bind-mounted into a container (compose.yaml binds manifest.yaml) cannot be
    # renamed over: os.replace fails with EBUSY, measured with podman. It is rewritten instead.
    path = tmp_path / "manifest.yaml"
    path.write_text("old\n")

    def busy(src: object, dst: object) -> None:
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(os, "replace", busy)
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.yaml"]

    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(OSError, match="cross-device"):
        atomic_write_text(path, "newer\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.yaml"]


def test_written_manifest_is_readable_by_others(tmp_path: Path) -> None:
    (tmp_path / "validation" / "demo").mkdir(parents=True)
    (tmp_path / "validation" / "demo" / "records.jsonl").write_text("")
    old = os.umask(0o022)
    try:
        write_manifest(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "manifest.yaml").stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"chunk": 0, "n_ite\xffms": 2}\n', r"raw.jsonl:2: not UTF-8 \(byte 0xff at offset 19\)"),
        (b'{"chunk": 0,\n', r"raw.jsonl:2: line: Invalid JSON"),
        (b'{"chunk": "zero"}\n', r"raw.jsonl:2: chunk: "),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, line: bytes, message: str) -> None:
    path = tmp_path / "raw.jsonl"
    append_jsonl(path, [stat_of(0)])
    with path.open("ab") as fh:
        fh.write(line)
    with pytest.raises(DataError, match=message):
        read_jsonl(path, ChunkStat)


def test_intact_prefix_stops_at_a_character_cut_in_half(tmp_path: Path) -> None:
    path = tmp_path / "raw.jsonl"
    append_jsonl(path, [stat_of(0)])
    with path.open("ab") as fh:
        fh.write('{"chunk": 1, "note": "caf\u00e9"}\n'.encode()[:-4] + b"\n")  # cut inside "é"
    assert [s.chunk for s in read_intact_prefix(path, ChunkStat)] == [0]


@pytest.mark.parametrize("enabled", [True, False])
def test_read_jsonl_leaves_the_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    path = tmp_path / "chunks.jsonl"
    append_jsonl(path, [stat_of(0), stat_of(1)])
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(path.read_bytes()[:-3])
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert len(read_jsonl(path, ChunkStat)) == 2
        assert gc.isenabled() is enabled
        with pytest.raises(DataError):
            read_jsonl(cut, ChunkStat)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
