"""Shared pieces of the HTTP-backend tests: a small battery and configs around it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tais.io import read_jsonl
from tais.records import ChunkStat, Generation

from .conftest import ROOT

DEMO_BATTERY = ROOT / "bundle" / "battery" / "demo.jsonl"


def small_battery(path: Path, n: int, step: int = 25) -> Path:
    """Every `step`-th demo item, so that every task of the demo battery shows up."""
    lines = DEMO_BATTERY.read_text(encoding="utf-8").splitlines(keepends=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines[::step][:n]), encoding="utf-8")
    return path


def experiment(
    name: str,
    battery: Path,
    arms: list[dict[str, Any]],
    engine: dict[str, Any] | None = None,
    contrasts: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "experiment": name,
        "battery": [{"benchmark": "tais-demo", "path": str(battery)}],
        "engine": {"max_tokens": 16, "batch_size": 4, **(engine or {})},
        "arms": arms,
        "contrasts": contrasts or [],
    }


def generations(runs: Path, experiment_name: str, arm: str) -> list[Generation]:
    return read_jsonl(runs / experiment_name / "generations" / f"{arm}.jsonl", Generation)


def chunk_stats(runs: Path, experiment_name: str, arm: str) -> list[ChunkStat]:
    path = runs / experiment_name / "generations" / f"{arm}.chunks.jsonl"
    return read_jsonl(path, ChunkStat) if path.exists() else []


def outputs(gens: list[Generation]) -> list[tuple[str, str, list[int] | None, int]]:
    return [(g.item_id, g.text, g.token_ids, g.n_tokens) for g in gens]


def line_count(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def whole_lines(path: Path) -> bool:
    """Every line of a raw file parses as JSON and ends in a newline (nothing half-written)."""
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):
        return False
    return all(json.loads(line) is not None for line in data.splitlines())
