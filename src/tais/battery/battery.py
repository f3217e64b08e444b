"""Battery stage: turn the config's benchmark list into a list of Items."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tais.battery.benchmarks import BUILTINS, load_builtin
from tais.battery.benchmarks.jailbreak import jailbreak_items
from tais.battery.benchmarks.sampling import stratified_sample
from tais.config.config import Arm, BatterySource, ExperimentConfig
from tais.errors import ConfigError, DataError
from tais.io import read_jsonl
from tais.records import Item, domain_of

# Benchmarks with a built-in loader; a source with `path` needs none (a JSONL of Items).
LOADERS = BUILTINS


def sample_limit(items: list[Item], limit: int | None, seed: int) -> list[Item]:
    """Keep `limit` items per task, stratified by `meta["category"]`, ranked by a seeded hash.

    Hashing the id (not the row order) keeps the choice stable when rows are added elsewhere,
    and every item keeps the same id whatever the limit.
    """
    return stratified_sample(items, limit, seed)


def load_source(source: BatterySource, seed: int) -> list[Item]:
    items = _path_items(source) if source.path is not None else _builtin_items(source)
    if source.subset is not None:
        items = select_subset(items, source.subset, source.benchmark)
    items = sample_limit(items, source.limit, seed)
    if source.jailbreak:
        items = items + jailbreak_items(items, source.jailbreak)
    return items


def _in_subset(items: list[Item], subset: str) -> tuple[list[Item], str]:
    """The items whose `meta["subsets"]` names `subset`, and the subsets there are (for errors)."""
    kept = [item for item in items if subset in item.meta.get("subsets", ())]
    known = sorted({s for item in items for s in item.meta.get("subsets", ())})
    return kept, ", ".join(known) or "none"


def select_subset(items: list[Item], subset: str, benchmark: str) -> list[Item]:
    """The items of `subset`; ids stay those of the full battery."""
    kept, known = _in_subset(items, subset)
    if not kept:
        raise ConfigError(
            f"benchmark {benchmark!r}: unknown subset {subset!r}; its subsets are {known}"
        )
    return kept


def arm_items(items: list[Item], arm: Arm) -> list[Item]:
    """The battery items arm `arm` runs on: all of them, or those of its `subset`."""
    if arm.subset is None:
        return items
    kept, known = _in_subset(items, arm.subset)
    if not kept:
        raise ConfigError(
            f"arm {arm.name}: no battery item is in subset {arm.subset!r}; "
            f"the battery's subsets are {known}"
        )
    return kept


def _builtin_items(source: BatterySource) -> list[Item]:
    if source.benchmark not in LOADERS:
        known = ", ".join(sorted(LOADERS)) or "none yet"
        raise ConfigError(
            f"unknown benchmark {source.benchmark!r} (built-in loaders: {known}); "
            "give `path` to a JSONL file of items"
        )
    return load_builtin(source)


def _path_items(source: BatterySource) -> list[Item]:
    path = Path(str(source.path))
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
    return items


def build_battery(config: ExperimentConfig) -> list[Item]:
    """All items of the experiment, sorted by id; ids must be unique and the battery non-empty."""
    items = [i for source in config.battery for i in load_source(source, config.engine.seed)]
    if not items:
        raise DataError(f"experiment {config.experiment!r}: the battery is empty")
    counts = Counter(item.item_id for item in items)
    repeated = [item_id for item_id, n in counts.items() if n > 1]
    if repeated:
        raise DataError(f"battery has repeated item ids, e.g. {repeated[0]!r}")
    owners: dict[str, set[str]] = {}
    domains: dict[str, set[str]] = {}
    for item in items:
        owners.setdefault(item.task, set()).add(item.benchmark)
        domains.setdefault(item.task, set()).add(domain_of(item.kind))
    for task, benchmarks in sorted(owners.items()):
        if len(benchmarks) > 1:
            # Rates are per task: two benchmarks' items under one name would be pooled.
            raise ConfigError(
                f"task {task!r} comes from several benchmarks ({', '.join(sorted(benchmarks))}); "
                "keep it in one of them (e.g. with `tasks`)"
            )
    for task, found in sorted(domains.items()):
        if len(found) > 1:
            # Acceptance is reported per task and per domain (safety, capability).
            raise ConfigError(
                f"task {task!r} holds both capability items and safety items (harmful, benign "
                "or scored); split it into two tasks"
            )
    return sorted(items, key=lambda item: item.item_id)


def battery_table(items: list[Item]) -> list[tuple[str, str, str, int]]:
    """(benchmark, task, kind, count) rows, for `tais battery`."""
    counts = Counter((i.benchmark, i.task, i.kind) for i in items)
    return [(b, t, k, n) for (b, t, k), n in sorted(counts.items())]
