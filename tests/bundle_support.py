"""Copies of the published bundles for tests that damage them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tais.publish.manifest import MANIFEST

from .conftest import ROOT


def published_runs() -> list[str]:
    return sorted(p.name for p in (ROOT / "validation").iterdir() if p.is_dir())


def published_copy(run: str, dest: Path) -> Path:
    """validation/<run>/ as published, and the committed manifest narrowed to its files.

    verify reads nothing of bundle/ but its hashes, so leaving it out keeps the copy small.
    """
    shutil.copytree(ROOT / "validation" / run, dest / "validation" / run)
    data: dict[str, Any] = yaml.safe_load((ROOT / MANIFEST).read_text(encoding="utf-8"))
    prefix = f"validation/{run}/"
    data["files"] = [e for e in data["files"] if e["path"].startswith(prefix)]
    (dest / MANIFEST).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return dest
