"""Battery stage: turn the config's benchmark list into a list of Items."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path

from tais.config import BatterySource, ExperimentConfig
from tais.errors import ConfigError, DataError
from tais.io import read_jsonl
from tais.records import Item

# Benchmarks with a built-in loader; a source with `path` needs none (a JSONL of Items).
LOADERS: dict[str, object] = {}


def sample_limit(items: list[Item], limit: int | None, seed: int) -> list[Item]:
    """Keep `limit` items per task, chosen by a seeded hash of the id.

    Hashing the id (not the row order) keeps the choice stable when rows are added elsewhere,
    and every item keeps the same id whatever the limit.
    """
    if limit is None:
        return items
    by_task: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_task[item.task].append(item)

    def rank(item: Item) -> str:
        return hashlib.sha256(f"{seed}:{item.item_id}".encode()).hexdigest()

    kept = {i.item_id for group in by_task.values() for i in sorted(group, key=rank)[:limit]}
    return [item for item in items if item.item_id in kept]


def load_source(source: BatterySource, seed: int) -> list[Item]:
    if source.path is None:
        if source.benchmark not in LOADERS:
            known = ", ".join(sorted(LOADERS)) or "none yet"
            raise ConfigError(
                f"unknown benchmark {source.benchmark!r} (built-in loaders: {known}); "
                "give `path` to a JSONL file of items"
            )
        raise ConfigError(f"benchmark {source.benchmark!r}: loader not available")
    path = Path(source.path)
    if not path.is_file():
        raise DataError(f"benchmark {source.benchmark!r}: battery file not found: {path}")
    items = [item for item in read_jsonl(path, Item) if item.benchmark == source.benchmark]
    if source.tasks is not None:
        present = {item.task for item in items}
        missing = sorted(set(source.tasks) - present)
        if missing:
            raise ConfigError(
                f"benchmark {source.benchmark!r}: unknown task(s) {', '.join(missing)}; "
                f"{path} has {', '.join(sorted(present))}"
            )
        items = [item for item in items if item.task in source.tasks]
    return sample_limit(items, source.limit, seed)


def build_battery(config: ExperimentConfig) -> list[Item]:
    """All items of the experiment, sorted by id; ids must be unique and the battery non-empty."""
    items = [i for source in config.battery for i in load_source(source, config.engine.seed)]
    if not items:
        raise DataError(f"experiment {config.experiment!r}: the battery is empty")
    counts = Counter(item.item_id for item in items)
    repeated = [item_id for item_id, n in counts.items() if n > 1]
    if repeated:
        raise DataError(f"battery has repeated item ids, e.g. {repeated[0]!r}")
    return sorted(items, key=lambda item: item.item_id)


def battery_table(items: list[Item]) -> list[tuple[str, str, str, int]]:
    """(benchmark, task, kind, count) rows, for `tais battery`."""
    counts = Counter((i.benchmark, i.task, i.kind) for i in items)
    return [(b, t, k, n) for (b, t, k), n in sorted(counts.items())]
