"""Built-in benchmarks by name, and where their data is read from."""

from __future__ import annotations

import os
from pathlib import Path

from tais.battery.benchmarks import (
    advbench,
    arc,
    bbq,
    do_not_answer,
    harmbench,
    jbb,
    mmlu,
    paper,
    truthfulqa,
    xstest,
)
from tais.battery.benchmarks.base import Benchmark
from tais.config.config import BatterySource
from tais.errors import ConfigError, DataError
from tais.records import Item

DATA_DIR_ENV = "TAIS_DATA_DIR"

BENCHMARKS: dict[str, Benchmark] = {
    module.BENCHMARK.name: module.BENCHMARK
    for module in (advbench, harmbench, jbb, xstest, do_not_answer, bbq, truthfulqa, mmlu, arc)
}
# Batteries drawn from several benchmarks: their loader reads the data root itself.
COMPOSITES: dict[str, Benchmark] = {paper.BENCHMARK.name: paper.BENCHMARK}
BUILTINS: dict[str, Benchmark] = {**BENCHMARKS, **COMPOSITES}


def data_folder(benchmark: Benchmark, data_dir: str | None) -> Path | None:
    """The mirror-shaped folder of this benchmark, or None to use the hub.

    `data_dir` (from the config) wins over TAIS_DATA_DIR; a named folder that lacks the
    dataset is an error rather than a silent switch to the network.
    """
    root, why = (data_dir, "data_dir") if data_dir else (os.environ.get(DATA_DIR_ENV), DATA_DIR_ENV)
    if not root:
        return None
    folder = Path(root) / benchmark.dataset
    if not folder.is_dir():
        raise DataError(
            f"benchmark {benchmark.name!r}: data folder {folder} not found ({why}={root}); "
            f"expected a folder laid out like ../shared/data/{benchmark.dataset}/"
        )
    return folder


def load_builtin(source: BatterySource) -> list[Item]:
    """Every item of the source's selected tasks (all tasks when none are named)."""
    benchmark = BUILTINS[source.benchmark]
    if source.tasks is not None:
        unknown = sorted(set(source.tasks) - benchmark.tasks.keys())
        if unknown:
            raise ConfigError(
                f"benchmark {benchmark.name!r}: unknown task(s) {', '.join(unknown)}; "
                f"its tasks are {', '.join(benchmark.tasks)}"
            )
    items = benchmark.load(data_folder(benchmark, source.data_dir))
    selected = set(source.tasks) if source.tasks is not None else benchmark.tasks.keys()
    return [item for item in items if item.task in selected]
