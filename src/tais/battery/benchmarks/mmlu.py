"""MMLU (Hendrycks et al. 2021), test split: 14,042 four-option questions over 57 subjects.

Mirror: `mmlu/mmlu_test.jsonl` (`{subject, question, choices, answer}`, answer 0-3), the
mirror's concatenation of its 57 `hails_mmlu_no_train/<subject>/test` Arrow files.
Hub: `cais/mmlu`, config `all`, split `test`, same columns, revision `main`.
MMLU has no id column: the row key is `<subject>/<short sha256 of question and choices>`,
and the 27 rows that repeat another row exactly get `-2` (identical rows are
interchangeable, so this stays stable). Strata: subject.
"""

from __future__ import annotations

from pathlib import Path

from tais.battery.benchmarks.base import (
    Benchmark,
    HubRef,
    Row,
    capability_item,
    deduplicated,
    read_json_lines,
    require_file,
    short_hash,
)
from tais.battery.benchmarks.hub import hub_rows
from tais.records import Item

NAME = "mmlu"
HUB = HubRef(repo="cais/mmlu", config="all", split="test")
COLUMNS = ["subject", "question", "choices", "answer"]


def rows_from(folder: Path | None) -> list[Row]:
    if folder is None:
        return hub_rows(NAME, HUB, COLUMNS)
    path = require_file(
        NAME, folder, "mmlu_test.jsonl", "JSON lines {subject, question, choices, answer}"
    )
    return read_json_lines(NAME, path, COLUMNS)


def load(folder: Path | None) -> list[Item]:
    rows = rows_from(folder)
    keys = deduplicated(
        [f"{r['subject']}/{short_hash(r['question'], *map(str, r['choices']))}" for r in rows]
    )
    return [
        capability_item(
            item_id=f"{NAME}/test/{key}",
            benchmark=NAME,
            task="mmlu",
            question=r["question"],
            choices=[str(c) for c in r["choices"]],
            answer=int(r["answer"]),
            meta={"category": r["subject"]},
        )
        for key, r in zip(keys, rows, strict=True)
    ]


BENCHMARK = Benchmark(name=NAME, dataset="mmlu", tasks={"mmlu": "capability"}, load=load)
