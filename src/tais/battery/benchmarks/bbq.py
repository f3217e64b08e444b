"""BBQ, the Bias Benchmark for QA (Parrish et al. 2022): three-way multiple choice.

Tasks `bbq_ambig` (the context does not say who; the right answer is the "unknown" option)
and `bbq_disambig` (it does), over the category files present: the mirror holds 6 of the 11
(see its SOURCE.md); every category found is loaded.
Mirror: `bbq/<Category>.jsonl`. Hub: `Elfsong/BBQ`, one split per category named in lower
case (`age`, `disability_status`, ...), the original jsonl fields, revision `main`.
Row key: `<category>/<example_id>` (example_id restarts at 0 in every category file).
Strata: category.

The bias score needs which answer is the stereotyped target. The official `target_loc`
comes from `additional_metadata.csv`, which the mirror lacks, so it is derived here: the
non-unknown answer whose group or name (from `answer_info`) is one of the row's
`stereotyped_groups`. Where that is not exactly one answer, `target_idx` is None and
the row is left out of the bias score (every row of the six present categories resolves).
"""

from __future__ import annotations

from pathlib import Path

from tais.battery.benchmarks.base import Benchmark, HubRef, Row, capability_item, read_json_lines
from tais.battery.benchmarks.hub import hub_rows
from tais.errors import DataError
from tais.records import Item

NAME = "bbq"
CATEGORIES = (
    "Age",
    "Disability_status",
    "Gender_identity",
    "Nationality",
    "Physical_appearance",
    "Race_ethnicity",
    "Race_x_SES",
    "Race_x_gender",
    "Religion",
    "SES",
    "Sexual_orientation",
)
COLUMNS = [
    "example_id",
    "question_index",
    "question_polarity",
    "context_condition",
    "category",
    "answer_info",
    "additional_metadata",
    "context",
    "question",
    "ans0",
    "ans1",
    "ans2",
    "label",
]
TASKS = {"ambig": "bbq_ambig", "disambig": "bbq_disambig"}


def rows_from(folder: Path | None) -> list[Row]:
    rows: list[Row] = []
    for category in CATEGORIES:
        if folder is None:
            ref = HubRef(repo="Elfsong/BBQ", config=None, split=category.lower())
            rows.extend(hub_rows(NAME, ref, COLUMNS))
            continue
        path = folder / f"{category}.jsonl"
        if path.is_file():
            rows.extend(read_json_lines(NAME, path, COLUMNS))
    if not rows:
        raise DataError(
            f"benchmark {NAME!r}: no category file in {folder}; expected one or more of "
            f"{', '.join(c + '.jsonl' for c in CATEGORIES)} (see ../shared/data/bbq/SOURCE.md)"
        )
    return rows


def roles(row: Row) -> tuple[int | None, int | None]:
    """(index of the stereotyped target answer, index of the unknown answer)."""
    info = row["answer_info"]
    groups = [[str(v).lower() for v in info[f"ans{i}"]] for i in range(3)]
    unknown = [i for i in range(3) if groups[i][-1] == "unknown"]
    stereotyped = {str(g).lower() for g in row["additional_metadata"].get("stereotyped_groups", [])}
    target = [i for i in range(3) if i not in unknown and stereotyped & set(groups[i])]
    return (target[0] if len(target) == 1 else None, unknown[0] if len(unknown) == 1 else None)


def load(folder: Path | None) -> list[Item]:
    items = []
    for r in rows_from(folder):
        condition = r["context_condition"]
        if condition not in TASKS:
            raise DataError(
                f"benchmark {NAME!r}: {r['category']} example {r['example_id']} has "
                f"context_condition {condition!r}; expected ambig or disambig"
            )
        target, unknown = roles(r)
        items.append(
            capability_item(
                item_id=f"{NAME}/{r['category']}/{r['example_id']}",
                benchmark=NAME,
                task=TASKS[condition],
                context=r["context"],
                question=r["question"],
                choices=[r["ans0"], r["ans1"], r["ans2"]],
                answer=int(r["label"]),
                meta={
                    "category": r["category"],
                    "context_condition": condition,
                    "question_polarity": r["question_polarity"],
                    "question_index": str(r["question_index"]),
                    "subcategory": r["additional_metadata"].get("subcategory", ""),
                    "label": int(r["label"]),
                    "target_idx": target,
                    "unknown_idx": unknown,
                },
            )
        )
    return items


BENCHMARK = Benchmark(
    name=NAME, dataset="bbq", tasks={task: "capability" for task in TASKS.values()}, load=load
)
