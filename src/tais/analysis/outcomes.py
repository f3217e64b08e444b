"""Per-record outcomes in [0, 1] and the paired table of two arms' outcomes.

An outcome is a refusal (harmful and benign items), a correct answer (capability) or a
judge's score (scored items, e.g. the paper's BBQ "unbiased" 0/1 and TruthfulQA overlap
0/0.5/1); `analysis.judge`, `capability_judge` and `score_judge` name whose labels count.

Rates and paired contrasts treat a score like a fractional success. A pair of outcomes
(a, b) adds min(a, b) to `both`, a - min to `only_a`, b - min to `only_b` and 1 - max(a, b)
to `neither`: for 0/1 outcomes that is the usual paired 2x2 table, and for any scores the
table's mean difference (only_b - only_a) / n is the paired difference of mean scores. The
interval methods (Tango, Newcombe, Wilson) then run on the fractional counts. Their variance
treats each item's |b - a| as its chance of a discordant pair, and |d| >= d^2 for |d| <= 1,
so with 0.5 scores the intervals are conservative (never narrower than the data support);
with no change at all they keep the binary floor (Tango: +/- z^2 / (n + z^2)) instead of
collapsing to a point as a paired t interval would. McNemar's exact test becomes the sign
test on the items whose outcome rose or fell (identical to McNemar for 0/1 outcomes).
"""

from __future__ import annotations

from collections.abc import Iterable

from tais.config.config import Analysis
from tais.errors import DataError
from tais.records import Kind, SampleRecord

CELLS = ("both", "only_a", "only_b", "neither")
METRICS: dict[Kind, str] = {
    "harmful": "refusal",
    "benign": "over_refusal",
    "capability": "accuracy",
    "scored": "score",
}


def metric_of(kind: Kind) -> str:
    return METRICS[kind]


def verdict_label(kind: Kind, analysis: Analysis) -> tuple[str, str, str]:
    """(judge, label, the analysis key naming the judge) whose value is the outcome."""
    if kind == "capability":
        return analysis.capability_judge, "correct", "capability_judge"
    if kind == "scored":
        return analysis.score_judge, "score", "score_judge"
    return analysis.judge, "refused", "judge"


def outcome(record: SampleRecord, analysis: Analysis) -> float | None:
    """The record's outcome in [0, 1]; None when the judge could not label it (unparseable)."""
    judge, label, key = verdict_label(record.kind, analysis)
    labels = record.labels.get(judge)
    if labels is None or label not in labels:
        raise DataError(
            f"record {record.arm}/{record.item_id}: no {judge!r} label {label!r} "
            f"(analysis.{key} names the judge of {record.kind} items; list it in `judges`)"
        )
    value = labels[label]
    if value is None:
        return None
    score = float(value)
    if not 0.0 <= score <= 1.0:
        raise DataError(
            f"record {record.arm}/{record.item_id}: {judge!r} label {label!r} is {value!r}, "
            "outside [0, 1]"
        )
    return score


def tidy(x: float) -> int | float:
    """A whole count as an int: binary tasks keep integer tables and rates."""
    return int(x) if float(x).is_integer() else x


def paired_table(pairs: Iterable[tuple[float, float]]) -> dict[str, int | float]:
    cells = dict.fromkeys(CELLS, 0.0)
    for a, b in pairs:
        low, high = min(a, b), max(a, b)
        cells["both"] += low
        cells["only_a"] += a - low
        cells["only_b"] += b - low
        cells["neither"] += 1.0 - high
    return {cell: tidy(value) for cell, value in cells.items()}


def signs(pairs: Iterable[tuple[float, float]]) -> tuple[int, int]:
    """(items whose outcome fell from A to B, items whose outcome rose)."""
    down = up = 0
    for a, b in pairs:
        down += b < a
        up += b > a
    return down, up
