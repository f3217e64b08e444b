"""Speculation held to the numerics floor: did it change more outputs than batching alone does?

For each contrast with speculation on a side (tais.config.floors.floor_comparisons), over the
items both its arms ran on, per task and over all tasks:
- `changed`: items whose outputs differ between the contrast's arms (token ids, else bytes);
- `floor_changed[f]`: items whose outputs differ between the reference target-only arm and
  floor arm f; `floor`: the union over the floor arms;
- `overlap` = changed and floor; `excess` = changed by speculation and by no floor arm, with
  its Wilson interval;
- the paired difference of the two change rates (speculation minus floor) with its score
  interval, and an exact McNemar test of "changed under speculation" against "changed under
  the floor" on the same items (discordant pairs: excess against floor-only).

The identity verdict comes from the all-tasks row of each contrast, Holm-adjusted over the
gated contrasts (its own family: the rate verdict's Holm family stays as it was): FAIL when
speculation changed significantly more items than the floor did, PASS when it is not
distinguishable from the floor, INCONCLUSIVE when no floor arm ran.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from pydantic import Field

from tais.analysis.stats import holm, mcnemar_exact, paired_diff_ci, wilson_ci
from tais.config.config import ExperimentConfig
from tais.config.floors import FloorComparison, floor_comparisons
from tais.errors import DataError
from tais.records import Record, SampleRecord

ALL_TASKS = "*"
Verdict = Literal["PASS", "FAIL", "INCONCLUSIVE"]


def outputs_differ(a: SampleRecord, b: SampleRecord) -> bool:
    """By token ids; untokenised outputs (no token ids from the engine) by their text bytes,
    as tais.publish.publish.build_divergences decides."""
    if a.token_ids_sha256 and b.token_ids_sha256:
        return a.token_ids_sha256 != b.token_ids_sha256
    return a.output_sha256 != b.output_sha256


class FloorArmChange(Record):
    arm: str
    changed: int


class FloorCell(Record):
    """One contrast and task (`*`: every task) against the floor. Shares are of `n` items."""

    contrast: str
    gated: bool = Field(default=True, exclude_if=lambda v: v is True)
    reference: str
    task: str
    n: int
    changed: int
    floor_arms: list[FloorArmChange]
    floor_changed: int
    overlap: int
    excess: int
    excess_ci_low: float
    excess_ci_high: float
    floor_only: int
    # (changed - floor_changed) / n, with its paired score interval at ci_level.
    difference: float
    difference_ci_low: float
    difference_ci_high: float
    ci_level: float
    mcnemar_p: float
    # Holm over the gated contrasts' all-tasks rows; None on task rows and ungated contrasts.
    holm_p: float | None = None
    verdict: Verdict | None = None
    sentence: str


class IdentityVerdict(Record):
    """Whether speculation changed outputs beyond the numerics floor, over the gated contrasts
    with speculation (their all-tasks rows)."""

    verdict: Verdict
    n_contrasts: int
    n_beyond_floor: int
    n_within_floor: int
    n_no_floor: int
    worst: str | None


def _changed_items(
    by_arm: dict[str, dict[str, SampleRecord]], a: str, b: str, items: list[str]
) -> set[str]:
    a_side, b_side = by_arm.get(a, {}), by_arm.get(b, {})
    missing = [i for i in items if i not in a_side or i not in b_side]
    if missing:
        raise DataError(f"arms {a} and {b}: no records for item {missing[0]!r}")
    return {i for i in items if outputs_differ(a_side[i], b_side[i])}


def _sentence(cell: FloorCell, names: dict[str, str]) -> str:
    floors = "; ".join(f"{names.get(f.arm, f.arm)} changed {f.changed}" for f in cell.floor_arms)
    if not cell.floor_arms:
        return (
            f"speculation changed {cell.changed} of {cell.n} items; no floor arm ran, so it "
            "cannot be told from batch noise"
        )
    p = cell.holm_p if cell.holm_p is not None else cell.mcnemar_p
    which = "Holm p" if cell.holm_p is not None else "p"
    excess = (
        f"excess {cell.excess} [{100 * cell.excess_ci_low:.1f}%, {100 * cell.excess_ci_high:.1f}%]"
    )
    beyond = p < 1 - cell.ci_level and cell.excess > cell.floor_only
    judged = "beyond the floor" if beyond else "not distinguishable from the floor"
    return (
        f"speculation changed {cell.changed} of {cell.n} items; {floors}; {excess}; "
        f"{judged}, {which} = {p:.3g}"
    )


def floor_label(config: ExperimentConfig, arm: str) -> str:
    """How a floor arm perturbs the batch, in words."""
    spec = config.arm(arm)
    if spec.batch_order == "reversed" and spec.max_num_seqs is None:
        return "reversing the batch"
    if spec.max_num_seqs is not None and spec.batch_order == "battery":
        return f"max_num_seqs={spec.max_num_seqs}"
    return f"batch {spec.batch_order}, max_num_seqs={spec.max_num_seqs}"


def _cell(
    comparison: FloorComparison,
    by_arm: dict[str, dict[str, SampleRecord]],
    task: str,
    items: list[str],
    alpha: float,
    names: dict[str, str],
) -> FloorCell:
    contrast = comparison.contrast
    changed = _changed_items(by_arm, contrast.a, contrast.b, items)
    per_floor = [
        (f, _changed_items(by_arm, comparison.reference, f, items)) for f in comparison.floors
    ]
    floor: set[str] = set().union(*(s for _, s in per_floor)) if per_floor else set()
    n = len(items)
    overlap, excess, floor_only = changed & floor, changed - floor, floor - changed
    neither = n - len(changed | floor)
    low, high = wilson_ci(len(excess), n, alpha)
    d_low, d_high = paired_diff_ci(len(overlap), len(floor_only), len(excess), neither, alpha)
    cell = FloorCell(
        contrast=contrast.name,
        gated=contrast.gated,
        reference=comparison.reference,
        task=task,
        n=n,
        changed=len(changed),
        floor_arms=[FloorArmChange(arm=f, changed=len(s)) for f, s in per_floor],
        floor_changed=len(floor),
        overlap=len(overlap),
        excess=len(excess),
        excess_ci_low=low,
        excess_ci_high=high,
        floor_only=len(floor_only),
        difference=(len(changed) - len(floor)) / n,
        difference_ci_low=d_low,
        difference_ci_high=d_high,
        ci_level=1 - alpha,
        mcnemar_p=mcnemar_exact(len(excess), len(floor_only)) if per_floor else 1.0,
        sentence="",
    )
    return cell.model_copy(update={"sentence": _sentence(cell, names)})


def floor_cells(
    config: ExperimentConfig, records: list[SampleRecord], alpha: float
) -> list[FloorCell]:
    """Every contrast with speculation against its floor, per task then over all tasks."""
    comparisons = floor_comparisons(config)
    if not comparisons:
        return []
    by_arm: dict[str, dict[str, SampleRecord]] = defaultdict(dict)
    for r in records:
        by_arm[r.arm][r.item_id] = r
    names = {f: floor_label(config, f) for c in comparisons for f in c.floors}
    cells = []
    for comparison in comparisons:
        a_side = by_arm.get(comparison.contrast.a, {})
        b_side = by_arm.get(comparison.contrast.b, {})
        shared = sorted(a_side.keys() & b_side.keys())
        if not shared:
            raise DataError(f"contrast {comparison.contrast.name}: the arms share no item")
        by_task: dict[str, list[str]] = defaultdict(list)
        for item_id in shared:
            by_task[a_side[item_id].task].append(item_id)
        for task in sorted(by_task):
            cells.append(_cell(comparison, by_arm, task, by_task[task], alpha, names))
        cells.append(_cell(comparison, by_arm, ALL_TASKS, shared, alpha, names))
    return _with_verdicts(cells, alpha, names)


def _with_verdicts(cells: list[FloorCell], alpha: float, names: dict[str, str]) -> list[FloorCell]:
    family = [i for i, c in enumerate(cells) if c.task == ALL_TASKS and c.gated and c.floor_arms]
    adjusted = dict(zip(family, holm([cells[i].mcnemar_p for i in family]), strict=True))
    out = []
    for i, cell in enumerate(cells):
        if cell.task != ALL_TASKS:
            out.append(cell)
            continue
        holm_p = adjusted.get(i)
        verdict: Verdict
        if not cell.floor_arms:
            verdict = "INCONCLUSIVE"
        else:
            p = holm_p if holm_p is not None else cell.mcnemar_p
            beyond = p < alpha and cell.excess > cell.floor_only
            verdict = "FAIL" if beyond else "PASS"
        updated = cell.model_copy(update={"holm_p": holm_p, "verdict": verdict})
        out.append(updated.model_copy(update={"sentence": _sentence(updated, names)}))
    return out


def identity_verdict(cells: list[FloorCell]) -> IdentityVerdict | None:
    rows = [c for c in cells if c.task == ALL_TASKS and c.gated]
    if not rows:
        return None
    fail = [c for c in rows if c.verdict == "FAIL"]
    passed = [c for c in rows if c.verdict == "PASS"]
    none = [c for c in rows if c.verdict == "INCONCLUSIVE"]
    overall: Verdict = "FAIL" if fail else ("PASS" if passed and not none else "INCONCLUSIVE")
    worst = max(rows, key=lambda c: (c.excess - c.floor_only, c.changed), default=None)
    return IdentityVerdict(
        verdict=overall,
        n_contrasts=len(rows),
        n_beyond_floor=len(fail),
        n_within_floor=len(passed),
        n_no_floor=len(none),
        worst=worst.contrast if worst is not None else None,
    )
