"""File helpers: atomic writes, hashing and JSON-lines that fail loudly on a cut line."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tais.errors import DataError

M = TypeVar("M", bound=BaseModel)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def canonical_json(obj: Any) -> str:
    """One spelling per value, so that hashes of configs and summaries are stable."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump_jsonl(records: Iterable[BaseModel]) -> str:
    return "".join(canonical_json(r.model_dump(mode="json")) + "\n" for r in records)


def write_jsonl(path: Path, records: Iterable[BaseModel]) -> None:
    atomic_write_text(path, dump_jsonl(records))


def append_jsonl(path: Path, records: Iterable[BaseModel]) -> None:
    """Append a batch and force it to disk; a kill can cut at most the batch being written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write(dump_jsonl(records))
        fh.flush()
        os.fsync(fh.fileno())


def iter_jsonl(path: Path, model: type[M]) -> Iterator[M]:
    """Parse every line into `model`; a cut or bad line is a DataError naming file and line."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    with path.open("r", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.endswith("\n"):
                raise DataError(f"{path}:{number}: line is cut short (no newline at end)")
            if not line.strip():
                continue
            try:
                yield model.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "line"
                raise DataError(f"{path}:{number}: {where}: {first['msg']}") from None


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    return list(iter_jsonl(path, model))


def read_intact_prefix(path: Path, model: type[M]) -> list[M]:
    """Records of a raw runs/ file up to the first cut or garbled line (a kill mid-write).

    Only for files this program appends to itself; released files go through `read_jsonl`,
    which rejects any damage.
    """
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        try:
            records.append(model.model_validate_json(line))
        except ValidationError:
            break
    return records
