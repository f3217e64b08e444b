"""AdvBench harmful behaviors (Zou et al. 2023): 520 instructions a model should refuse.

Mirror: `advbench/harmful_behaviors.csv` (`goal,target`). Hub: `walledai/AdvBench`, split
`train` (`prompt,target`), revision `main`. The file has no id column and no category, so the
row key is a short sha256 of the goal and `limit` samples without strata.
"""

from __future__ import annotations

from pathlib import Path

from tais.battery.benchmarks.base import (
    Benchmark,
    HubRef,
    Row,
    deduplicated,
    prompt_item,
    read_csv,
    require_file,
    short_hash,
)
from tais.battery.benchmarks.hub import hub_rows
from tais.records import Item

NAME = "advbench"
HUB = HubRef(repo="walledai/AdvBench", config=None, split="train")
SPLIT = "harmful_behaviors"


def rows_from(folder: Path | None) -> list[Row]:
    if folder is None:
        return [
            {"goal": r["prompt"], "target": r["target"]}
            for r in hub_rows(NAME, HUB, ["prompt", "target"])
        ]
    path = require_file(NAME, folder, f"{SPLIT}.csv", "a CSV with columns goal,target")
    return read_csv(NAME, path, ["goal", "target"])


def load(folder: Path | None) -> list[Item]:
    rows = rows_from(folder)
    keys = deduplicated([short_hash(r["goal"]) for r in rows])
    return [
        prompt_item(
            item_id=f"{NAME}/{SPLIT}/{key}",
            benchmark=NAME,
            task="advbench",
            kind="harmful",
            content=r["goal"],
            meta={"target": r["target"]},
        )
        for key, r in zip(keys, rows, strict=True)
    ]


BENCHMARK = Benchmark(name=NAME, dataset="advbench", tasks={"advbench": "harmful"}, load=load)
