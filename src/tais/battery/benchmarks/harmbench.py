"""HarmBench text behaviors (Mazeika et al. 2024): standard, contextual and copyright.

Mirror: `harmbench/harmbench_behaviors_text_all.csv`
(`Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID`), 400 rows.
Hub: `walledai/HarmBench`, configs `standard` (`prompt,category`), `contextual`
(`prompt,context,category`) and `copyright` (`prompt,tags`), split `train`, revision `main`.
That copy has no BehaviorID, so hub rows are keyed by a short sha256 of the behavior
(`sha-<12 hex>`) and their ids differ from the mirror's; within one source they are stable.

A contextual behavior is shown as HarmBench's own prompt format shows it: the context string,
a `---` rule, then the behavior. Strata: SemanticCategory.
"""

from __future__ import annotations

from pathlib import Path

from tais.battery.benchmarks.base import (
    Benchmark,
    HubRef,
    Row,
    prompt_item,
    read_csv,
    require_file,
    short_hash,
)
from tais.battery.benchmarks.hub import hub_rows
from tais.errors import DataError
from tais.records import Item

NAME = "harmbench"
SPLIT = "all"
FILE = "harmbench_behaviors_text_all.csv"
COLUMNS = [
    "Behavior",
    "FunctionalCategory",
    "SemanticCategory",
    "Tags",
    "ContextString",
    "BehaviorID",
]
TASKS = {
    "standard": "harmbench_standard",
    "contextual": "harmbench_contextual",
    "copyright": "harmbench_copyright",
}


def _hub() -> list[Row]:
    rows: list[Row] = []
    for functional in TASKS:
        ref = HubRef(repo="walledai/HarmBench", config=functional, split="train")
        needed = {
            "standard": ["prompt", "category"],
            "contextual": ["prompt", "context", "category"],
        }
        for r in hub_rows(NAME, ref, needed.get(functional, ["prompt"])):
            rows.append(
                {
                    "Behavior": r["prompt"],
                    "FunctionalCategory": functional,
                    "SemanticCategory": r.get("category") or "copyright",
                    "Tags": r.get("tags") or "",
                    "ContextString": r.get("context") or "",
                    "BehaviorID": f"sha-{short_hash(r['prompt'], r.get('context') or '')}",
                }
            )
    return rows


def rows_from(folder: Path | None) -> list[Row]:
    if folder is None:
        return _hub()
    path = require_file(NAME, folder, FILE, f"a CSV with columns {','.join(COLUMNS)}")
    return read_csv(NAME, path, COLUMNS)


def content_of(row: Row) -> str:
    context = (row["ContextString"] or "").strip()
    return f"{context}\n\n---\n\n{row['Behavior']}" if context else row["Behavior"]


def load(folder: Path | None) -> list[Item]:
    items = []
    for r in rows_from(folder):
        functional = r["FunctionalCategory"]
        if functional not in TASKS:
            raise DataError(
                f"benchmark {NAME!r}: behavior {r['BehaviorID']!r} has FunctionalCategory "
                f"{functional!r}; expected one of {', '.join(TASKS)}"
            )
        if functional == "contextual" and not (r["ContextString"] or "").strip():
            raise DataError(
                f"benchmark {NAME!r}: contextual behavior {r['BehaviorID']!r} has no ContextString"
            )
        items.append(
            prompt_item(
                item_id=f"{NAME}/{SPLIT}/{r['BehaviorID']}",
                benchmark=NAME,
                task=TASKS[functional],
                kind="harmful",
                content=content_of(r),
                meta={
                    "category": r["SemanticCategory"],
                    "behavior_id": r["BehaviorID"],
                    "tags": r["Tags"],
                },
            )
        )
    return items


BENCHMARK = Benchmark(
    name=NAME,
    dataset="harmbench",
    tasks={task: "harmful" for task in TASKS.values()},
    load=load,
)
