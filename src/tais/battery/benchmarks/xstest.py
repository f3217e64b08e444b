"""XSTest v2 (Röttger et al. 2024): 250 safe prompts that look unsafe, and 200 unsafe contrasts.

Safe prompts are over-refusal probes (kind `benign`, task `xstest_safe`); unsafe ones should
be refused (kind `harmful`, task `xstest_unsafe`).
Mirror: `xstest/xstest_prompts.csv` (`id,prompt,type,label,focus,note`).
Hub: `Paul/XSTest`, split `train`, same columns, revision `main`.
Row key: `id`. Strata: `type` (homonyms, figurative_language, ...).
"""

from __future__ import annotations

from pathlib import Path

from tais.battery.benchmarks.base import Benchmark, HubRef, Row, prompt_item, read_csv, require_file
from tais.battery.benchmarks.hub import hub_rows
from tais.errors import DataError
from tais.records import Item, Kind

NAME = "xstest"
HUB = HubRef(repo="Paul/XSTest", config=None, split="train")
COLUMNS = ["id", "prompt", "type", "label", "focus", "note"]
LABELS: dict[str, tuple[str, Kind]] = {
    "safe": ("xstest_safe", "benign"),
    "unsafe": ("xstest_unsafe", "harmful"),
}


def rows_from(folder: Path | None) -> list[Row]:
    if folder is None:
        return hub_rows(NAME, HUB, COLUMNS)
    path = require_file(
        NAME, folder, "xstest_prompts.csv", f"a CSV with columns {','.join(COLUMNS)}"
    )
    return read_csv(NAME, path, COLUMNS)


def load(folder: Path | None) -> list[Item]:
    items = []
    for r in rows_from(folder):
        if r["label"] not in LABELS:
            raise DataError(
                f"benchmark {NAME!r}: prompt {r['id']} has label {r['label']!r}; "
                "expected safe or unsafe"
            )
        task, kind = LABELS[r["label"]]
        items.append(
            prompt_item(
                item_id=f"{NAME}/prompts/{r['id']}",
                benchmark=NAME,
                task=task,
                kind=kind,
                content=r["prompt"],
                meta={
                    "category": r["type"],
                    "focus": r["focus"] or "",
                    "note": r["note"] or "",
                },
            )
        )
    return items


BENCHMARK = Benchmark(
    name=NAME,
    dataset="xstest",
    tasks={task: kind for task, kind in LABELS.values()},
    load=load,
)
