"""File helpers: atomic writes, hashing and JSON-lines that fail loudly on a cut line."""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tais.errors import DataError, TaisError

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


def read_text(path: Path, error: type[TaisError] = DataError) -> str:
    """The UTF-8 text of a file; a missing, unreadable or undecodable file raises `error`."""
    if not path.is_file():
        raise error(f"{path}: not found" if not path.exists() else f"{path}: not a file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_yaml(path: Path, error: type[TaisError] = DataError) -> Any:
    """A YAML file's data; any failure to read or parse it raises `error` naming the file."""
    text = read_text(path, error)
    try:
        return yaml.safe_load(text)
    # PyYAML lets a few bad scalars out as other errors: an impossible date is a ValueError,
    # deep nesting a RecursionError.
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise error(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None


def _yaml_problem(exc: BaseException) -> str:
    """PyYAML's message on one line: 'line L, column C: problem (context)'."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return " ".join(str(exc).split())
    mark = exc.problem_mark
    context = f" ({exc.context})" if exc.context else ""
    return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}{context}"


def canonical_json(obj: Any) -> str:
    """One spelling per value, so that hashes of configs and summaries are stable."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file.

    The file is created with mode 0o666 less the umask, like any file `open` creates, so a
    published bundle is readable by others (mkstemp's 0o600 would not be).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            # path is a mount point, e.g. a file bind-mounted into a container (compose.yaml
            # binds the host's manifest.yaml): it cannot be replaced, only rewritten in place.
            with path.open("w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
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
    """Parse every line into `model`; a cut, undecodable or bad line is a DataError naming file
    and line. Lines end at b"\\n" only: a stray carriage return is part of a (then bad) line."""
    if not path.is_file():
        raise DataError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                record = _parse_line(path, number, raw, model)
                if record is not None:
                    yield record
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _parse_line(path: Path, number: int, raw: bytes, model: type[M]) -> M | None:
    """The line's record; None for a blank line."""
    if not raw.endswith(b"\n"):
        raise DataError(f"{path}:{number}: line is cut short (no newline at end)")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}:{number}: not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    if not line.strip():
        return None
    try:
        return model.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "line"
        raise DataError(f"{path}:{number}: {where}: {first['msg']}") from None


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a block that builds many long-lived objects.

    Records hold no reference cycles, but each full collection walks every object alive, so
    while tens of thousands of records pile up the collector re-walks them again and again:
    on a paper-sized bundle that costs as much as parsing them. Cycles made inside the block
    are collected once it ends; a collector the caller turned off stays off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    with gc_paused():
        return list(iter_jsonl(path, model))


def read_intact_prefix(path: Path, model: type[M]) -> list[M]:
    """Records of a raw runs/ file up to the first cut or garbled line (a kill mid-write).

    Only for files this program appends to itself; released files go through `read_jsonl`,
    which rejects any damage.
    """
    if not path.exists():
        return []
    records = []
    # Bytes split at b"\n" only: a kill can cut a line inside a multi-byte character, and
    # str.splitlines would also split at characters such as U+2028 inside a JSON string.
    with path.open("rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            try:
                records.append(model.model_validate_json(line.decode("utf-8")))
            except (UnicodeDecodeError, ValidationError):
                break
    return records
