"""The fallback source: a Hugging Face dataset, loaded with `datasets` when no folder is given.

`TAIS_HUB_DIR` points at a folder of local clones of hub dataset repositories laid out as
`<owner>/<name>/` (what `git clone https://huggingface.co/datasets/<owner>/<name>` leaves);
when it is set, the same `load_dataset` call reads the clone instead of the network. Tests use
it to exercise this path without a network.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tais.battery.benchmarks.base import HubRef, Row, require_columns
from tais.errors import DataError

HUB_DIR_ENV = "TAIS_HUB_DIR"


def hub_rows(benchmark: str, ref: HubRef, needed: Sequence[str]) -> list[Row]:
    """Every row of one split, as plain dicts; `needed` columns must be present."""
    try:
        # Imported by name: `datasets` is optional and ships no type information.
        datasets = importlib.import_module("datasets")
    except ImportError:
        raise DataError(
            f"benchmark {benchmark!r}: no data folder given (TAIS_DATA_DIR or `data_dir`) and "
            f"the `datasets` package needed to load {ref.repo} from the hub is not installed"
        ) from None
    local_root = os.environ.get(HUB_DIR_ENV)
    where = str(Path(local_root) / ref.repo) if local_root else ref.repo
    if local_root and not Path(where).is_dir():
        raise DataError(
            f"benchmark {benchmark!r}: {where} not found; {HUB_DIR_ENV} is set, so a local "
            f"clone of the hub dataset {ref.repo} was expected there"
        )
    label = f"{ref.repo} (config {ref.config or 'default'}, split {ref.split}) from {where}"
    try:
        data: Any = datasets.load_dataset(
            where,
            ref.config,
            split=ref.split,
            # A local clone is whatever was checked out; the pin applies to the hub only.
            revision=None if local_root else ref.revision,
        )
    except Exception as exc:  # datasets raises many types; the message is what the user needs
        hint = "" if local_root else "; to read a local mirror instead, set TAIS_DATA_DIR"
        raise DataError(f"benchmark {benchmark!r}: could not load {label}: {exc}{hint}") from None
    require_columns(benchmark, label, list(data.column_names), needed)
    rows = [dict(row) for row in data]
    if not rows:
        raise DataError(f"benchmark {benchmark!r}: {label} has no rows")
    return rows
