"""Content hashes of model folders, so that a retrained model is a new model.

Every file of a local model folder (config, tokenizer, weights, anything else vLLM may read) is
hashed, except hidden entries: a `.git` folder of a cloned model repeats the weights, and
download tools keep timestamped metadata in hidden folders; neither is read by the engine.

Re-reading gigabytes of weights on every run is slow, so each file's SHA-256 is cached in
`.cache/tais/model-hashes.json` under its resolved path, size, mtime_ns and ctime_ns. ctime
joins mtime because tools that preserve mtime (`cp -p`, `rsync -t`, `touch -d`) cannot set it
back, so a replaced file is always re-read. A file whose timestamps are younger than SETTLE_NS
when hashed is not cached: a coarse filesystem clock could let a second write within the same
tick keep the same timestamps (git treats "racily clean" index entries the same way).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import ValidationError

from tais.config.config import Strict
from tais.io import atomic_write_text, sha256_file

CACHE = Path(".cache") / "tais" / "model-hashes.json"
SETTLE_NS = 2_000_000_000


class FileHash(Strict):
    size: int
    mtime_ns: int
    ctime_ns: int
    sha256: str


class HashCache(Strict):
    files: dict[str, FileHash]


def _load(cache_path: Path) -> dict[str, FileHash]:
    """The cached hashes; a missing or damaged cache is an empty one (it only saves time)."""
    try:
        return dict(HashCache.model_validate_json(cache_path.read_bytes()).files)
    except (OSError, ValueError, ValidationError):
        return {}


def model_files(folder: Path) -> list[Path]:
    """The files that make up the model, in a fixed order (sorted relative paths)."""
    return sorted(
        (
            path
            for path in folder.rglob("*")
            if path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        ),
        key=lambda path: path.relative_to(folder).as_posix(),
    )


def folder_hashes(
    folder: Path, cache_path: Path = CACHE, now_ns: int | None = None
) -> dict[str, str]:
    """SHA-256 of every model file, by path relative to `folder`; cached as described above."""
    cache = _load(cache_path)
    now = time.time_ns() if now_ns is None else now_ns
    hashes: dict[str, str] = {}
    changed = False
    for path in model_files(folder):
        # Symlinks (a Hugging Face snapshot links into blobs/) resolve to the bytes read.
        real = path.resolve()
        stat = real.stat()
        key = str(real)
        seen = cache.get(key)
        if (
            seen is not None
            and seen.size == stat.st_size
            and seen.mtime_ns == stat.st_mtime_ns
            and seen.ctime_ns == stat.st_ctime_ns
        ):
            digest = seen.sha256
        else:
            digest = sha256_file(real)
            settled = now - max(stat.st_mtime_ns, stat.st_ctime_ns) >= SETTLE_NS
            if settled:
                cache[key] = FileHash(
                    size=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                    ctime_ns=stat.st_ctime_ns,
                    sha256=digest,
                )
                changed = True
            elif cache.pop(key, None) is not None:
                changed = True
        hashes[path.relative_to(folder).as_posix()] = digest
    if changed:
        kept = {k: v for k, v in cache.items() if Path(k).is_file()}
        text = json.dumps(HashCache(files=kept).model_dump(mode="json"), indent=1, sort_keys=True)
        atomic_write_text(cache_path, text + "\n")
    return hashes


def model_identity(model: str, cache_path: Path = CACHE) -> dict[str, object]:
    """What identifies the model `model` names: a local folder by its bytes, a hub id by name.

    A Hugging Face id cannot be hashed without downloading it; the id (already part of the
    arm's config, as a `revision` would be if the config named one) is then all there is, so a
    hub model updated under the same id goes unnoticed: use a local folder where that matters.
    """
    local = Path(model)
    if not local.is_dir():
        return {"hub_id": model}
    return {"files": folder_hashes(local, cache_path)}
