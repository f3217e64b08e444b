"""JailbreakBench JBB-Behaviors (Chao et al. 2024): 100 harmful behaviors and 100 benign twins.

Mirror: `jbb_behaviors/behaviors.csv` (`,Goal,Target,Behavior,Category`) and
`jbb_behaviors/benign-behaviors.csv` (`index,goal,target,behavior,category,source`).
Hub: `JailbreakBench/JBB-Behaviors`, config `behaviors`, splits `harmful` and `benign`
(`Index,Goal,Target,Behavior,Category,Source`), revision `main`.

The row key is the `Behavior` column, which JBB documents as the unique identifier of a
behavior (the numeric index is 0-based in the mirror's files and 1-based on the hub, so it
would not give the same id from both sources). A benign row shares its Behavior with its
harmful twin, so `jbb/harmful/<key>` and `jbb/benign/<key>` pair up. Strata: Category.
"""

from __future__ import annotations

import re
from pathlib import Path

from tais.battery.benchmarks.base import Benchmark, HubRef, Row, prompt_item, read_csv, require_file
from tais.battery.benchmarks.hub import hub_rows
from tais.errors import DataError
from tais.records import Item, Kind

NAME = "jbb"
HUB_COLUMNS = ["Index", "Goal", "Target", "Behavior", "Category"]
# split -> (mirror file, its columns, task, kind)
SPLITS: dict[str, tuple[str, list[str], str, Kind]] = {
    "harmful": (
        "behaviors.csv",
        ["", "Goal", "Target", "Behavior", "Category"],
        "jbb_harmful",
        "harmful",
    ),
    "benign": (
        "benign-behaviors.csv",
        ["index", "goal", "target", "behavior", "category"],
        "jbb_benign",
        "benign",
    ),
}


def slug(behavior: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", behavior.lower()).strip("_")


def _normalise(row: Row, columns: list[str]) -> Row:
    # The three spellings of the header (mirror harmful, mirror benign, hub) map to one.
    index, goal, target, behavior, category = (row[c] for c in columns[:5])
    return {
        "index": index,
        "goal": goal,
        "target": target,
        "behavior": behavior,
        "category": category,
    }


def rows_from(folder: Path | None, split: str) -> list[Row]:
    file, columns, _, _ = SPLITS[split]
    if folder is None:
        ref = HubRef(repo="JailbreakBench/JBB-Behaviors", config="behaviors", split=split)
        return [_normalise(r, HUB_COLUMNS) for r in hub_rows(NAME, ref, HUB_COLUMNS)]
    path = require_file(NAME, folder, file, f"a CSV with columns {','.join(columns)}")
    return [_normalise(r, columns) for r in read_csv(NAME, path, columns)]


def load(folder: Path | None) -> list[Item]:
    items = []
    for split, (_, _, task, kind) in SPLITS.items():
        for r in rows_from(folder, split):
            key = slug(r["behavior"])
            if not key:
                raise DataError(f"benchmark {NAME!r}: {split} row {r['index']} has no Behavior")
            items.append(
                prompt_item(
                    item_id=f"{NAME}/{split}/{key}",
                    benchmark=NAME,
                    task=task,
                    kind=kind,
                    content=r["goal"],
                    meta={
                        "category": r["category"],
                        "behavior": r["behavior"],
                        "target": r["target"],
                    },
                )
            )
    return items


BENCHMARK = Benchmark(
    name=NAME,
    dataset="jbb_behaviors",
    tasks={task: kind for _, _, task, kind in SPLITS.values()},
    load=load,
)
