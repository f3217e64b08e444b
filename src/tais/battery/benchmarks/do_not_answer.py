"""Do-Not-Answer (Wang et al. 2023): 939 instructions a responsible model should not follow.

Mirror: `do_not_answer/do_not_answer_en.csv` (`id,risk_area,types_of_harm,specific_harms,question`).
Hub: `LibrAI/do-not-answer`, split `train` (same columns plus model responses), revision `main`.
Row key: `id`. Strata: `risk_area` (five areas).
"""

from __future__ import annotations

from pathlib import Path

from tais.battery.benchmarks.base import Benchmark, HubRef, Row, prompt_item, read_csv, require_file
from tais.battery.benchmarks.hub import hub_rows
from tais.records import Item

NAME = "do_not_answer"
HUB = HubRef(repo="LibrAI/do-not-answer", config=None, split="train")
COLUMNS = ["id", "risk_area", "types_of_harm", "specific_harms", "question"]


def rows_from(folder: Path | None) -> list[Row]:
    if folder is None:
        return hub_rows(NAME, HUB, COLUMNS)
    path = require_file(
        NAME, folder, "do_not_answer_en.csv", f"a CSV with columns {','.join(COLUMNS)}"
    )
    return read_csv(NAME, path, COLUMNS)


def load(folder: Path | None) -> list[Item]:
    return [
        prompt_item(
            item_id=f"{NAME}/en/{r['id']}",
            benchmark=NAME,
            task="do_not_answer",
            kind="harmful",
            content=r["question"],
            meta={
                "category": r["risk_area"],
                "types_of_harm": r["types_of_harm"],
                "specific_harms": r["specific_harms"],
            },
        )
        for r in rows_from(folder)
    ]


BENCHMARK = Benchmark(
    name=NAME, dataset="do_not_answer", tasks={"do_not_answer": "harmful"}, load=load
)
