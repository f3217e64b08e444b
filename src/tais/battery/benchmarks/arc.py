"""ARC, the AI2 Reasoning Challenge (Clark et al. 2018), test splits of Challenge and Easy.

Mirror: `arc/ARC-Challenge/ARC-Challenge-Test.jsonl` and `arc/ARC-Easy/ARC-Easy-Test.jsonl`
(`{id, question: {stem, choices: [{text, label}]}, answerKey}`).
Hub: `allenai/ai2_arc`, configs `ARC-Challenge` and `ARC-Easy`, split `test`
(`id, question, choices: {text, label}, answerKey`), revision `main`.
A few questions label their options 1-4 or have 3 or 5 options: options are always shown as
A, B, C, ... in the source's order and the original label is kept in `meta`.
Row key: `id`. ARC has no category column, so `limit` samples without strata.
"""

from __future__ import annotations

from pathlib import Path

from tais.battery.benchmarks.base import (
    Benchmark,
    HubRef,
    Row,
    capability_item,
    read_json_lines,
    require_file,
)
from tais.battery.benchmarks.hub import hub_rows
from tais.errors import DataError
from tais.records import Item

NAME = "arc"
# task -> (configuration / mirror folder, id split part)
PARTS = {
    "arc_challenge": ("ARC-Challenge", "challenge_test"),
    "arc_easy": ("ARC-Easy", "easy_test"),
}


def rows_from(folder: Path | None, part: str) -> list[Row]:
    """Rows as {id, stem, texts, labels, answer_key}."""
    if folder is None:
        ref = HubRef(repo="allenai/ai2_arc", config=part, split="test")
        return [
            {
                "id": r["id"],
                "stem": r["question"],
                "texts": list(r["choices"]["text"]),
                "labels": list(r["choices"]["label"]),
                "answer_key": r["answerKey"],
            }
            for r in hub_rows(NAME, ref, ["id", "question", "choices", "answerKey"])
        ]
    path = require_file(
        NAME,
        folder,
        f"{part}/{part}-Test.jsonl",
        "JSON lines {id, question: {stem, choices}, answerKey}",
    )
    return [
        {
            "id": r["id"],
            "stem": r["question"]["stem"],
            "texts": [c["text"] for c in r["question"]["choices"]],
            "labels": [c["label"] for c in r["question"]["choices"]],
            "answer_key": r["answerKey"],
        }
        for r in read_json_lines(NAME, path, ["id", "question", "answerKey"])
    ]


def load(folder: Path | None) -> list[Item]:
    items = []
    for task, (part, split) in PARTS.items():
        for r in rows_from(folder, part):
            if r["answer_key"] not in r["labels"]:
                raise DataError(
                    f"benchmark {NAME!r}: {part} question {r['id']}: answerKey {r['answer_key']!r} "
                    f"is not one of the option labels {r['labels']}"
                )
            items.append(
                capability_item(
                    item_id=f"{NAME}/{split}/{r['id']}",
                    benchmark=NAME,
                    task=task,
                    question=r["stem"],
                    choices=r["texts"],
                    answer=r["labels"].index(r["answer_key"]),
                    meta={"original_labels": r["labels"]},
                )
            )
    return items


BENCHMARK = Benchmark(
    name=NAME, dataset="arc", tasks={task: "capability" for task in PARTS}, load=load
)
