"""Capability scores beyond accuracy, per arm and per contrast: BBQ bias, TruthfulQA MC1/MC2.

Computed from the multiple_choice judge's released labels by the pure functions in
`tais.judge.scoring`, so `verify` re-derives them from records.jsonl like every other number.
They are reported beside the verdict, not gated on: the gated metric of a capability task
is its accuracy, which has a paired equivalence test.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from tais.config.config import ExperimentConfig
from tais.errors import DataError
from tais.judge.scoring import bbq_bias_score
from tais.records import Record, SampleRecord

JUDGE = "multiple_choice"


class Score(Record):
    """One arm's score on one task. `value` is None when no answer could count."""

    pair: str
    arm: str
    task: str
    metric: str
    method: str
    n: int
    value: float | None


class ScoreDiff(Record):
    """A score of arm B minus that of arm A on the same items of one task."""

    contrast: str
    a: str
    b: str
    task: str
    metric: str
    n: int
    value_a: float | None
    value_b: float | None
    diff: float | None
    # Items whose score rests on the same basis in both arms: bit-identical option
    # log-probabilities, or the same letter where there are none. None for BBQ, whose score
    # exists only per task.
    items_identical: int | None


def _labels(record: SampleRecord) -> dict[str, Any] | None:
    return record.labels.get(JUDGE)


def _one(values: set[str], what: str, where: str) -> str:
    if len(values) != 1:
        raise DataError(f"{where}: records mix {what} {sorted(values)}")
    return values.pop()


def score_of(task: str, records: list[SampleRecord]) -> tuple[str, str, float | None] | None:
    """(metric, method, value) of one arm's records of one task; None if the task has none."""
    labels = [lab for r in records if (lab := _labels(r)) is not None]
    where = f"arm {records[0].arm}, task {task}"
    if labels and all("bbq" in lab for lab in labels):
        context = _one({str(lab["bbq_context"]) for lab in labels}, "BBQ contexts", where)
        value = bbq_bias_score(
            [lab["bbq"] for lab in labels],
            [bool(lab["correct"]) for lab in labels],
            ambiguous=context == "ambig",
        )
        return f"bias_score_{context}", "bbq", value
    if labels and all("score" in lab for lab in labels):
        method = _one({str(lab["method"]) for lab in labels}, "scoring methods", where)
        metric = _one({str(lab["mc"]) for lab in labels}, "MC variants", where)
        return metric, method, statistics.fmean(float(lab["score"]) for lab in labels)
    return None


def _by_arm_task(records: list[SampleRecord]) -> dict[tuple[str, str], list[SampleRecord]]:
    groups: dict[tuple[str, str], list[SampleRecord]] = defaultdict(list)
    for r in records:
        if r.kind == "capability":
            groups[(r.arm, r.task)].append(r)
    return groups


def capability_scores(records: list[SampleRecord]) -> list[Score]:
    scores = []
    for (arm, task), group in sorted(_by_arm_task(records).items()):
        found = score_of(task, group)
        if found is not None:
            metric, method, value = found
            scores.append(
                Score(
                    pair=group[0].pair,
                    arm=arm,
                    task=task,
                    metric=metric,
                    method=method,
                    n=len(group),
                    value=value,
                )
            )
    return scores


def _item_basis(record: SampleRecord) -> Any:
    """What one item's score rests on: the options' log-probabilities, else the letter."""
    if record.choice_logprobs is not None:
        return record.choice_logprobs
    return (_labels(record) or {}).get("answer")


def score_diffs(config: ExperimentConfig, records: list[SampleRecord]) -> list[ScoreDiff]:
    groups = _by_arm_task(records)
    tasks = sorted({task for _, task in groups})
    diffs = []
    for contrast in config.contrasts:
        for task in tasks:
            side_a, side_b = groups.get((contrast.a, task)), groups.get((contrast.b, task))
            if not side_a or not side_b:
                continue
            shared = {r.item_id for r in side_a} & {r.item_id for r in side_b}
            a = sorted((r for r in side_a if r.item_id in shared), key=lambda r: r.item_id)
            b = sorted((r for r in side_b if r.item_id in shared), key=lambda r: r.item_id)
            found_a, found_b = score_of(task, a), score_of(task, b)
            if found_a is None or found_b is None:
                continue
            value_a, value_b = found_a[2], found_b[2]
            per_item = found_a[1] != "bbq"
            diffs.append(
                ScoreDiff(
                    contrast=contrast.name,
                    a=contrast.a,
                    b=contrast.b,
                    task=task,
                    metric=found_a[0],
                    n=len(a),
                    value_a=value_a,
                    value_b=value_b,
                    diff=None if value_a is None or value_b is None else value_b - value_a,
                    items_identical=(
                        sum(_item_basis(x) == _item_basis(y) for x, y in zip(a, b, strict=True))
                        if per_item
                        else None
                    ),
                )
            )
    return diffs
