"""Fuzz: verify reports every damage to a published bundle and never crashes on one.

Each published run is copied with a manifest.yaml narrowed to its own files. Each copy is
damaged in one way, drawn with a fixed seed from whatever files the run folder holds (a new
subfolder included), and `tais verify` must name the damaged path, exit non-zero and show no
traceback. The stale manifest already flags every damage, but verify still parses and
re-derives the damaged files, which is what must not crash.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tais.cli import main
from tais.publish.manifest import MANIFEST

from .bundle_support import published_copy, published_runs

SEED = 20240611
# Mutations per run in the default test run (benchmarks-tiny is ~7x slower to verify than the
# demo), and per run again, with another seed, in the slow one.
DEFAULT_MUTATIONS = {"demo": 300, "benchmarks-tiny": 20, "paper-tiny": 20}
# The paper's experiments on the CPU profile (e0-cpu ...) share their checks with paper-tiny
# and are slow to re-verify: a few mutations each by default, SLOW_MUTATIONS under `slow`.
OTHER_MUTATIONS = 4
SLOW_MUTATIONS = 200
NEW_NAMES = (
    ".raw_outputs.txt",
    ".hidden.jsonl",
    "notes.txt",
    "records.jsonl.bak",
    ".cache/blob",
    "volatile/extra.json",
    "sub/.deep",
)


# Mutations: each changes one path and returns it (for a new file, its outermost new folder).


def _byte_op(rng: random.Random, data: bytes) -> bytes:
    op = rng.choice(("flip", "insert", "delete", "truncate")) if data else "insert"
    at = rng.randrange(len(data) + (1 if op == "insert" else 0))
    if op == "flip":
        return data[:at] + bytes([data[at] ^ rng.randrange(1, 256)]) + data[at + 1 :]
    if op == "insert":
        junk = rng.choice((b"\xff", b"\xc3", b"\n", b'"', b"}", b"[/x]", b"\x00", b"9", b" "))
        return data[:at] + junk * rng.randint(1, 3) + data[at:]
    if op == "delete":
        return data[:at] + data[at + rng.randint(1, 8) :]
    return data[:at]


def _line_op(rng: random.Random, data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines:
        return _byte_op(rng, data)
    at = rng.randrange(len(lines))
    if rng.random() < 0.5:
        lines.insert(at, lines[at])
    else:
        del lines[at]
    return b"".join(lines)


def mutate_bytes(rng: random.Random, target: Path) -> Path:
    data = target.read_bytes()
    op = rng.choice((_byte_op, _byte_op, _line_op))
    changed = op(rng, data)
    while changed == data:  # never expected: an unchanged file would make a vacuous case
        changed = _byte_op(rng, data)
    target.write_bytes(changed)
    return target


def delete_path(target: Path) -> Path:
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    return target


def add_file(rng: random.Random, target: Path) -> Path:
    folder = target if target.is_dir() else target.parent
    new = folder / rng.choice(NEW_NAMES)
    outermost = next(p for p in (*reversed(new.parents), new) if not p.exists())
    new.parent.mkdir(parents=True, exist_ok=True)
    new.write_bytes(rng.choice((b"", b"extra\n", b'{"text": "a completion"}\n', b"\xff\xfe")))
    return outermost


def one_mutation(rng: random.Random, root: Path, run: str) -> tuple[str, Path]:
    run_dir = root / "validation" / run
    files = sorted(p for p in run_dir.rglob("*") if p.is_file())
    roll = rng.random()
    if roll < 0.70:
        return "bytes", mutate_bytes(rng, rng.choice(files))
    if roll < 0.80:
        return "delete", delete_path(rng.choice(files))
    if roll < 0.93:
        return "add", add_file(rng, rng.choice([root / "validation", run_dir, *files]))
    if roll < 0.96:
        return "delete", delete_path(rng.choice([run_dir, root / "validation"]))
    return "manifest", mutate_bytes(rng, root / MANIFEST)


def manifest_unchanged(root: Path, pristine: Path) -> bool:
    """A manifest edit that leaves its data as it was (a comment, quoting): nothing to report."""
    try:
        now = yaml.safe_load((root / MANIFEST).read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError):
        return False
    return bool(now == yaml.safe_load((pristine / MANIFEST).read_text(encoding="utf-8")))


def fuzz(run: str, count: int, seed: int, tmp_path: Path) -> None:
    pristine = published_copy(run, tmp_path / "pristine")
    runner = CliRunner()
    first = runner.invoke(main, ["verify", "--root", str(pristine)])
    assert first.exit_code == 0, first.output  # the undamaged copy passes, so damage is seen
    rng = random.Random(f"{seed}:{run}")
    work = tmp_path / "work"
    for n in range(count):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work)
        kind, changed = one_mutation(rng, work, run)
        result = runner.invoke(main, ["verify", "--root", str(work)])
        label = f"mutation {n} ({kind} {changed.relative_to(work)}):\n{result.output}"
        assert "Traceback" not in result.output, label
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            label,
            result.exc_info,
        )
        if kind == "manifest" and manifest_unchanged(work, pristine):
            continue
        assert result.exit_code == 1, label
        assert changed.relative_to(work).as_posix() in result.output, label


@pytest.mark.parametrize("run", published_runs())
def test_verify_reports_every_mutation(run: str, tmp_path: Path) -> None:
    fuzz(run, DEFAULT_MUTATIONS.get(run, OTHER_MUTATIONS), SEED, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("run", published_runs())
def test_verify_reports_every_mutation_at_length(run: str, tmp_path: Path) -> None:
    fuzz(run, SLOW_MUTATIONS, SEED + 1, tmp_path)
