"""manifest.yaml: SHA-256 and size of every released artifact and bundled input.

Hidden files count like any other. validation/ holds none: publish writes none there, so a
hidden entry is either a staging folder left by an interrupted publish (`.<run>.staging`,
`.<run>.old`) or something put there by hand; `tais manifest` refuses to list one and
`tais verify` reports each.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from tais import __version__
from tais.errors import DataError
from tais.io import atomic_write_text, read_yaml, sha256_file

MANIFEST = "manifest.yaml"
COVERED = ("bundle", "validation")
RELEASED = "validation"
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
    """Every file under root/top, hidden ones included."""
    base = root / top
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*") if p.is_file())


def hidden_released(root: Path) -> list[Path]:
    """The outermost hidden files and folders under validation/."""
    base = root / RELEASED
    if not base.is_dir():
        return []
    return sorted(
        p
        for p in base.rglob(".*")
        if not any(part.startswith(".") for part in p.relative_to(base).parts[:-1])
    )


def _hidden_problem(root: Path, path: Path) -> str:
    kind = "folder" if path.is_dir() else "file"
    return (
        f"{path.relative_to(root).as_posix()}: hidden {kind} in {RELEASED}/, which publish never "
        "writes (a `.<run>.staging` or `.<run>.old` folder is left by an interrupted publish); "
        "delete it"
    )


def build_manifest(root: Path) -> Manifest:
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    if not any((root / top).is_dir() for top in COVERED):
        raise DataError(
            f"{root}: holds neither bundle/ nor validation/; give the project folder as --root"
        )
    hidden = hidden_released(root)
    if hidden:
        raise DataError("; ".join(_hidden_problem(root, p) for p in hidden))
    files = [
        Entry(path=p.relative_to(root).as_posix(), sha256=sha256_file(p), size=p.stat().st_size)
        for top in COVERED
        for p in covered_files(root, top)
    ]
    return Manifest(tais_version=__version__, files=files)


def write_manifest(root: Path) -> Manifest:
    """Hash bundle/ and validation/ into root/manifest.yaml; DataError, writing nothing, if root
    is not a project folder or validation/ holds a hidden entry."""
    manifest = build_manifest(root)
    body = yaml.safe_dump(manifest.model_dump(), sort_keys=False, width=200)
    atomic_write_text(root / MANIFEST, HEADER + body)
    return manifest


def read_manifest(root: Path) -> Manifest:
    path = root / MANIFEST
    if not path.exists():
        raise DataError(f"{path}: not found; run `tais manifest` after publishing")
    data = read_yaml(path)
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise DataError(f"{path}: not a valid manifest: {where}: {first['msg']}") from None


def _bad_entry_path(path: str) -> bool:
    """True unless `path` names a place under bundle/ or validation/ (no '..', not absolute)."""
    parts = path.split("/")
    return (
        len(parts) < 2
        or parts[0] not in COVERED
        or any(part in ("", ".", "..") for part in parts)
        or "\\" in path
        or "\0" in path
    )


def _check_entry(root: Path, entry: Entry) -> str | None:
    if _bad_entry_path(entry.path):
        return f"{MANIFEST}: lists {entry.path!r}, which is not a path under bundle/ or validation/"
    path = root / entry.path
    if not path.is_file():
        return f"{entry.path}: listed in {MANIFEST} but missing"
    try:
        size, digest = path.stat().st_size, sha256_file(path)
    except OSError as exc:
        return f"{entry.path}: cannot read: {exc.strerror or exc}"
    if size != entry.size or digest != entry.sha256:
        return (
            f"{entry.path}: {MANIFEST} says sha256 {entry.sha256[:16]}.. size {entry.size}, "
            f"found {digest[:16]}.. size {size}"
        )
    return None


def check_manifest(root: Path) -> list[str]:
    """Problems: an unreadable manifest, a listed file missing or changed, an unlisted file in
    validation/, or any hidden entry there."""
    try:
        manifest = read_manifest(root)
    except DataError as exc:
        return [str(exc)]
    problems = []
    listed: set[str] = set()
    for entry in manifest.files:
        if entry.path in listed:
            problems.append(f"{MANIFEST}: lists {entry.path} twice")
            continue
        listed.add(entry.path)
        problem = _check_entry(root, entry)
        if problem:
            problems.append(problem)
    hidden = hidden_released(root)
    problems += [_hidden_problem(root, p) for p in hidden]
    for path in covered_files(root, RELEASED):
        rel = path.relative_to(root).as_posix()
        if rel not in listed and not any(h == path or h in path.parents for h in hidden):
            problems.append(f"{rel}: in {RELEASED}/ but not listed in {MANIFEST}")
    return problems
