"""manifest.yaml: SHA-256 and size of every released artifact and bundled input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from tais import __version__
from tais.errors import DataError
from tais.io import atomic_write_text, sha256_file

MANIFEST = "manifest.yaml"
COVERED = ("bundle", "validation")
HEADER = (
    "# SHA-256 and size of every released artifact (validation/) and bundled input (bundle/).\n"
    "# Written by `tais manifest`; checked by `tais verify`.\n"
)


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str
    sha256: str
    size: int


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tais_version: str
    files: list[Entry]


def covered_files(root: Path, top: str) -> list[Path]:
    """Files under root/top, skipping hidden ones (staging folders, editor droppings)."""
    base = root / top
    if not base.exists():
        return []
    return sorted(
        p
        for p in base.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def build_manifest(root: Path) -> Manifest:
    files = [
        Entry(path=p.relative_to(root).as_posix(), sha256=sha256_file(p), size=p.stat().st_size)
        for top in COVERED
        for p in covered_files(root, top)
    ]
    return Manifest(tais_version=__version__, files=files)


def write_manifest(root: Path) -> Manifest:
    manifest = build_manifest(root)
    body = yaml.safe_dump(manifest.model_dump(), sort_keys=False, width=200)
    atomic_write_text(root / MANIFEST, HEADER + body)
    return manifest


def read_manifest(root: Path) -> Manifest:
    path = root / MANIFEST
    if not path.is_file():
        raise DataError(f"{path}: not found; run `tais manifest` after publishing")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Manifest.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise DataError(f"{path}: not a valid manifest: {exc}") from None


def check_manifest(root: Path) -> list[str]:
    """Problems: a listed file missing or changed, or an unlisted file in validation/."""
    manifest = read_manifest(root)
    problems = []
    listed = set()
    for entry in manifest.files:
        listed.add(entry.path)
        path = root / entry.path
        if not path.is_file():
            problems.append(f"{entry.path}: listed in {MANIFEST} but missing")
            continue
        size, digest = path.stat().st_size, sha256_file(path)
        if size != entry.size or digest != entry.sha256:
            problems.append(
                f"{entry.path}: sha256 stored {entry.sha256[:16]}.. size {entry.size}, "
                f"found {digest[:16]}.. size {size}"
            )
    for path in covered_files(root, "validation"):
        rel = path.relative_to(root).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: in validation/ but not listed in {MANIFEST}")
    return problems
