"""TruthfulQA (Lin et al. 2022): multiple choice (MC1, MC2) and the generation questions.

Mirror: `truthfulqa/mc_task.json` (`question, mc1_targets, mc2_targets`, each target a
`{answer text: 0|1}` map; the current 790-question set) and `truthfulqa/TruthfulQA.csv`
(`Type,Category,Question,Best Answer,...,Correct Answers,Incorrect Answers,Source`, answers
`;`-separated). Hub: `truthfulqa/truthful_qa`, configs `multiple_choice` and `generation`,
split `validation`, revision `main`: that is the earlier 817-question version, so the hub
gives 817 items per task where the mirror gives 790.

Tasks: `truthfulqa_mc1` (one true option), `truthfulqa_mc2` (several true options; an answer
is correct when the chosen option is true), both `capability`; `truthfulqa_gen` is `benign`
(should be answered; the true and false reference answers ride in `meta` for a truthfulness
judge). The source lists the MC1 true answer first, so options are shown in an order fixed by
the item id. Row key: a short sha256 of the question (TruthfulQA has no id column).
Strata: Category, joined from the CSV by question text. Empty-string options (39 rows of the
mirror) are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tais.battery.benchmarks.base import (
    LETTERS,
    Benchmark,
    HubRef,
    Row,
    capability_item,
    permutation,
    prompt_item,
    read_csv,
    read_json,
    require_file,
    short_hash,
)
from tais.battery.benchmarks.hub import hub_rows
from tais.errors import DataError
from tais.records import Item

NAME = "truthfulqa"
GEN_COLUMNS = [
    "Type",
    "Category",
    "Question",
    "Best Answer",
    "Correct Answers",
    "Incorrect Answers",
]
MC_TASKS = {"mc1_targets": "truthfulqa_mc1", "mc2_targets": "truthfulqa_mc2"}


def _answers(cell: str) -> list[str]:
    return [a.strip() for a in cell.split(";") if a.strip()]


def _targets(benchmark_where: str, value: Any) -> dict[str, int]:
    """Either spelling of a target set, as {answer text: 0|1} in source order."""
    if isinstance(value, dict) and "choices" in value and "labels" in value:
        return {str(c): int(v) for c, v in zip(value["choices"], value["labels"], strict=True)}
    if isinstance(value, dict) and value:
        return {str(c): int(v) for c, v in value.items()}
    raise DataError(f"benchmark {NAME!r}: {benchmark_where}: expected a non-empty target set")


def mc_rows_from(folder: Path | None) -> list[Row]:
    if folder is None:
        ref = HubRef(repo="truthfulqa/truthful_qa", config="multiple_choice", split="validation")
        return hub_rows(NAME, ref, ["question", "mc1_targets", "mc2_targets"])
    path = require_file(
        NAME, folder, "mc_task.json", "a JSON list of {question, mc1_targets, mc2_targets}"
    )
    data = read_json(NAME, path)
    if not isinstance(data, list) or not data:
        raise DataError(f"benchmark {NAME!r}: {path}: expected a non-empty JSON list")
    for number, row in enumerate(data):
        if (
            not isinstance(row, dict)
            or not {"question", "mc1_targets", "mc2_targets"} <= row.keys()
        ):
            raise DataError(
                f"benchmark {NAME!r}: {path} entry {number}: "
                "expected keys question, mc1_targets, mc2_targets"
            )
    return data


def gen_rows_from(folder: Path | None) -> list[Row]:
    """Generation rows as {type, category, question, best, correct, incorrect} with answer lists."""
    if folder is None:
        ref = HubRef(repo="truthfulqa/truthful_qa", config="generation", split="validation")
        needed = [
            "type",
            "category",
            "question",
            "best_answer",
            "correct_answers",
            "incorrect_answers",
        ]
        return [
            {
                "type": r["type"],
                "category": r["category"],
                "question": r["question"],
                "best": r["best_answer"],
                "correct": list(r["correct_answers"]),
                "incorrect": list(r["incorrect_answers"]),
            }
            for r in hub_rows(NAME, ref, needed)
        ]
    path = require_file(
        NAME, folder, "TruthfulQA.csv", f"a CSV with columns {','.join(GEN_COLUMNS)}"
    )
    return [
        {
            "type": r["Type"],
            "category": r["Category"],
            "question": r["Question"],
            "best": r["Best Answer"],
            "correct": _answers(r["Correct Answers"]),
            "incorrect": _answers(r["Incorrect Answers"]),
        }
        for r in read_csv(NAME, path, GEN_COLUMNS)
    ]


def _mc_item(row: Row, field: str, category: str) -> Item:
    task = MC_TASKS[field]
    split = field.removesuffix("_targets")
    item_id = f"{NAME}/{split}/{short_hash(row['question'])}"
    targets = _targets(f"{row['question']!r} {field}", row[field])
    # The mirror's mc_task.json has an empty-string option in 17 MC1 and 22 MC2 rows (5 of
    # them marked true). An empty option is no answer: shown as a bare letter, and scored by
    # log-probability it would be the most likely reply of all. It is dropped; every row
    # keeps at least one true option.
    targets = {text: label for text, label in targets.items() if text.strip()}
    true_count = sum(targets.values())
    if len(targets) > len(LETTERS) or true_count < 1 or (split == "mc1" and true_count != 1):
        raise DataError(f"benchmark {NAME!r}: {item_id}: {len(targets)} options, {true_count} true")
    texts, labels = list(targets), list(targets.values())
    order = permutation(len(texts), item_id)
    shown = [texts[i] for i in order]
    shown_labels = [labels[i] for i in order]
    true_letters = [LETTERS[i] for i, label in enumerate(shown_labels) if label]
    item = capability_item(
        item_id=item_id,
        benchmark=NAME,
        task=task,
        question=row["question"],
        choices=shown,
        answer=shown_labels.index(1),
        meta={
            "category": category,
            "mc": split,
            "mc_labels": shown_labels,
            # The options are also scored by log-probability as answers to the bare question.
            "scored_question": row["question"],
            "true_letters": true_letters,
        },
    )
    # MC2 has several true options; `reference` lists them all.
    return item.model_copy(update={"reference": ",".join(true_letters)}) if split == "mc2" else item


def load(folder: Path | None) -> list[Item]:
    gen = gen_rows_from(folder)
    category = {r["question"]: r["category"] for r in gen}
    items = [
        prompt_item(
            item_id=f"{NAME}/generation/{short_hash(r['question'])}",
            benchmark=NAME,
            task="truthfulqa_gen",
            kind="benign",
            content=r["question"],
            meta={
                "category": r["category"],
                "type": r["type"],
                "best_answer": r["best"],
                "correct_answers": r["correct"],
                "incorrect_answers": r["incorrect"],
            },
        )
        for r in gen
    ]
    for row in mc_rows_from(folder):
        for field in MC_TASKS:
            items.append(_mc_item(row, field, category.get(row["question"], "unknown")))
    return items


BENCHMARK = Benchmark(
    name=NAME,
    dataset="truthfulqa",
    tasks={
        "truthfulqa_mc1": "capability",
        "truthfulqa_mc2": "capability",
        "truthfulqa_gen": "benign",
    },
    load=load,
)
