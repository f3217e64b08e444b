"""Analyse stage: rates, paired contrasts and verdicts from the per-sample records.

`verify` calls `analyse` on the released records, so every published number has exactly one
implementation.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any

from tais.analysis.agreement import agreement, require_single_digest, unparseable_counts
from tais.analysis.capability import capability_scores, score_diffs
from tais.analysis.floor import floor_cells, identity_verdict, outputs_differ
from tais.analysis.outcomes import metric_of, outcome, paired_table, signs, tidy
from tais.analysis.reproduction import reproduction
from tais.analysis.stats import (
    TostResult,
    cohens_h,
    holm,
    identity_share,
    mcnemar_exact,
    mde_two_proportions,
    tost_paired,
    tost_wald_unpaired,
    wilson_ci,
)
from tais.analysis.summary import (
    ArmSummary,
    ContrastResult,
    ExperimentVerdict,
    Identity,
    JudgeCount,
    Rate,
    Summary,
    Verdict,
)
from tais.analysis.sweep import pooled_rates, sweeps
from tais.config.config import Analysis, Contrast, ExperimentConfig
from tais.config.paper_figures import FigureFile, load_figures
from tais.errors import DataError
from tais.records import Divergence, Kind, PublishedArm, SampleRecord, require_unique


def _pp(x: float) -> str:
    return f"{100 * x:+.1f} pp"


def decide(
    tost: TostResult, h: float, h_cutoff: float, mde: float, identity: Identity, rate_a: float
) -> tuple[Verdict, list[str]]:
    """PASS: CI inside the margin and |h| under the cutoff. FAIL: CI wholly beyond the margin."""
    level = f"{100 * (1 - 2 * tost.alpha):.0f}% CI"
    ci = f"[{_pp(tost.ci_low)}, {_pp(tost.ci_high)}]"
    margin = f"+/-{100 * tost.margin:.1f} pp"
    reasons = [
        f"token ids identical for {identity.token_identical}/{identity.n} items"
        if identity.token_identical is not None
        else f"text bytes identical for {identity.bytes_identical}/{identity.n} items "
        "(no token ids from the engine)"
    ]
    if tost.zero_variance:
        # Zero Wald variance means both rates sit at the same bound, 0% or 100%.
        reasons.insert(0, f"Wald standard error is 0 (both rates are {rate_a:.0%})")
        reasons.append("zero-variance Wald TOST is flagged, neither passed nor failed")
        return "INCONCLUSIVE", reasons
    if tost.beyond_margin:
        reasons.insert(0, f"{level} {ci} lies beyond {margin}: a difference is established")
        return "FAIL", reasons
    h_ok = abs(h) < h_cutoff
    reasons.insert(0, f"|h| = {abs(h):.3f} {'<' if h_ok else '>='} {h_cutoff}")
    inside = "inside" if tost.equivalent else "not inside"
    reasons.insert(0, f"{level} {ci} {inside} {margin}")
    if tost.equivalent and h_ok:
        return "PASS", reasons
    if not tost.equivalent:
        reasons.append(f"unpaired MDE at 80% power is {100 * mde:.1f} pp: more items needed")
    return "INCONCLUSIVE", reasons


def identity_of(
    pairs: list[tuple[SampleRecord, SampleRecord]],
    divergences: dict[str, Divergence],
    alpha: float,
) -> Identity:
    n = len(pairs)
    measured = True
    tokens_same = bytes_same = 0
    diverged: list[Divergence] = []
    # One pass over the pairs, which are every item of a contrast's task.
    for a, b in pairs:
        bytes_same += a.output_sha256 == b.output_sha256
        if a.token_ids_sha256 and b.token_ids_sha256:
            tokens_same += a.token_ids_sha256 == b.token_ids_sha256
        else:
            measured = False
        if outputs_differ(a, b):
            d = divergences.get(a.item_id)
            if d is None:
                raise DataError(f"item {a.item_id!r}: token ids differ but no divergence names it")
            diverged.append(d)
    token_same = tokens_same if measured else None
    firsts = [d.first_diverging_token for d in diverged if d.first_diverging_token is not None]
    token_share, token_low, token_high = (
        (None, None, None) if token_same is None else identity_share(token_same, n, alpha)
    )
    bytes_share, bytes_low, bytes_high = identity_share(bytes_same, n, alpha)
    return Identity(
        n=n,
        token_identical=token_same,
        bytes_identical=bytes_same,
        token_identical_share=token_share,
        token_identical_ci_low=token_low,
        token_identical_ci_high=token_high,
        bytes_identical_share=bytes_share,
        bytes_identical_ci_low=bytes_low,
        bytes_identical_ci_high=bytes_high,
        ci_level=1 - alpha,
        first_diverging_token_min=min(firsts) if firsts else None,
        first_diverging_token_median=float(statistics.median(firsts)) if firsts else None,
        bytes_changed_share_mean=(
            statistics.fmean(d.bytes_changed_share for d in diverged) if diverged else None
        ),
    )


Outcomes = Callable[[SampleRecord], "float | None"]


def outcomes_once(analysis: Analysis) -> Outcomes:
    """`outcome` that computes each record's outcome once: an arm in several contrasts, and
    the rates, read the same records again. Records are keyed by identity, so the memo is
    for one list of records that outlives it."""
    memo: dict[int, float | None] = {}

    def outcome_of(record: SampleRecord) -> float | None:
        key = id(record)
        if key in memo:
            return memo[key]
        value = memo[key] = outcome(record, analysis)
        return value

    return outcome_of


def _rates(records: list[SampleRecord], outcome_of: Outcomes) -> list[Rate]:
    groups: dict[tuple[str, str, str, Kind], list[float | None]] = defaultdict(list)
    for r in records:
        groups[(r.pair, r.arm, r.task, r.kind)].append(outcome_of(r))
    rates = []
    for (pair, arm, task, kind), outcomes in sorted(groups.items()):
        usable = [o for o in outcomes if o is not None]
        k, n = tidy(sum(usable)), len(usable)
        if n == 0:
            raise DataError(f"arm {arm}, task {task}: no output has a usable label")
        low, high = wilson_ci(k, n)
        rates.append(
            Rate(
                pair=pair,
                arm=arm,
                task=task,
                kind=kind,
                metric=metric_of(kind),
                k=k,
                n=n,
                excluded=len(outcomes) - n,
                rate=k / n,
                ci_low=low,
                ci_high=high,
            )
        )
    return rates


def paired_items(
    config: ExperimentConfig, contrast: Contrast, a_ids: AbstractSet[str], b_ids: AbstractSet[str]
) -> list[str]:
    """The items a contrast pairs: those both arms ran on.

    Arms on the same items (the same `subset`, or none) must have run on exactly the same
    ones; an arm on a subset must lie inside an arm on the whole battery; two different
    subsets must share an item. Anything else means records are missing.
    """
    subset_a, subset_b = config.arm(contrast.a).subset, config.arm(contrast.b).subset
    shared = a_ids & b_ids
    if subset_a == subset_b:
        fits = a_ids == b_ids
    elif subset_a is None:
        fits = b_ids <= a_ids
    elif subset_b is None:
        fits = a_ids <= b_ids
    else:
        fits = bool(shared)
    if not fits or not shared:
        raise DataError(f"contrast {contrast.name}: the arms were not run on the same items")
    return sorted(shared)


def _contrast_cells(
    config: ExperimentConfig,
    records: list[SampleRecord],
    divergences: list[Divergence],
    outcome_of: Outcomes,
) -> list[dict[str, Any]]:
    analysis = config.analysis
    by_arm: dict[str, dict[str, SampleRecord]] = defaultdict(dict)
    for r in records:
        by_arm[r.arm][r.item_id] = r
    cells = []
    for contrast in config.contrasts:
        a_side, b_side = by_arm.get(contrast.a, {}), by_arm.get(contrast.b, {})
        if not a_side or not b_side:
            raise DataError(f"contrast {contrast.name}: no records for one of its arms")
        shared = paired_items(config, contrast, a_side.keys(), b_side.keys())
        div = {d.item_id: d for d in divergences if d.contrast == contrast.name}
        by_task: dict[tuple[str, Kind], list[tuple[SampleRecord, SampleRecord]]] = defaultdict(list)
        for item_id in shared:
            a, b = a_side[item_id], b_side[item_id]
            by_task[(a.task, a.kind)].append((a, b))
        for (task, kind), pairs in sorted(by_task.items()):
            usable = []
            for a, b in pairs:
                oa, ob = outcome_of(a), outcome_of(b)
                if oa is not None and ob is not None:
                    usable.append((oa, ob))  # a pair is only as usable as its less usable side
            table = paired_table(usable)
            n = len(usable)
            if n == 0:
                raise DataError(f"contrast {contrast.name}, task {task}: no usable pairs")
            k_a, k_b = table["both"] + table["only_a"], table["both"] + table["only_b"]
            if analysis.method == "wald":
                tost = tost_wald_unpaired(k_a, n, k_b, n, analysis.margin, analysis.alpha)
            else:
                tost = tost_paired(
                    **table, margin=analysis.margin, alpha=analysis.alpha, method=analysis.method
                )
            cells.append(
                dict(
                    contrast=contrast.name,
                    gated=contrast.gated,
                    a=contrast.a,
                    b=contrast.b,
                    task=task,
                    kind=kind,
                    n=n,
                    excluded=len(pairs) - n,
                    table=table,
                    signs=signs(usable),
                    rate_a=k_a / n,
                    rate_b=k_b / n,
                    tost=tost,
                    identity=identity_of(pairs, div, analysis.alpha),
                )
            )
    return cells


def _arm_summary(run: PublishedArm) -> ArmSummary:
    spec = run.engine.get("speculative")
    if not spec:
        label = "none"
    else:
        label = f"{spec['method']}(k={spec['num_speculative_tokens']})"
        if spec.get("model"):
            label += f" draft={spec['model']}"
    return ArmSummary(
        arm=run.arm,
        pair=run.pair,
        speculative=label,
        n_items=run.n_items,
        n_tokens=run.n_tokens,
    )


def _refusal_judges(records: list[SampleRecord]) -> list[str]:
    return sorted({j for r in records for j, labels in r.labels.items() if "refused" in labels})


def _judging(records: list[SampleRecord]) -> list[JudgeCount]:
    outputs: dict[str, int] = defaultdict(int)
    unique: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in records:
        for judge in r.labels:
            outputs[judge] += 1
            unique[judge].add((r.item_id, r.output_sha256))
    return [
        JudgeCount(judge=j, outputs=outputs[j], unique_outputs=len(unique[j]))
        for j in sorted(outputs)
    ]


def analyse(
    config: ExperimentConfig,
    records: list[SampleRecord],
    divergences: list[Divergence],
    arms: list[PublishedArm],
    figures: FigureFile | None = None,
) -> Summary:
    if not records:
        raise DataError("no records to analyse")
    require_unique(records, "records")
    analysis = config.analysis
    digests = require_single_digest(records)
    outcome_of = outcomes_once(analysis)
    cells = _contrast_cells(config, records, divergences, outcome_of)
    # Exact McNemar: the sign test on the items whose outcome fell or rose.
    p_values = [mcnemar_exact(*c["signs"]) for c in cells]
    contrasts = []
    for cell, mcnemar_p, holm_p in zip(cells, p_values, holm(p_values), strict=True):
        tost, identity, table = cell["tost"], cell["identity"], cell["table"]
        h = cohens_h(cell["rate_a"], cell["rate_b"])
        mde = mde_two_proportions(cell["rate_a"], cell["n"], alpha=analysis.alpha)
        verdict, reasons = decide(tost, h, analysis.h_cutoff, mde, identity, cell["rate_a"])
        contrasts.append(
            ContrastResult(
                contrast=cell["contrast"],
                gated=cell["gated"],
                a=cell["a"],
                b=cell["b"],
                task=cell["task"],
                kind=cell["kind"],
                metric=metric_of(cell["kind"]),
                n=cell["n"],
                excluded=cell["excluded"],
                **table,
                rate_a=cell["rate_a"],
                rate_b=cell["rate_b"],
                diff=tost.diff,
                ci_low=tost.ci_low,
                ci_high=tost.ci_high,
                ci_level=1 - 2 * analysis.alpha,
                ci_method=tost.method,
                equivalent=tost.equivalent,
                beyond_margin=tost.beyond_margin,
                zero_variance=tost.zero_variance,
                cohens_h=h,
                mcnemar_p=mcnemar_p,
                holm_p=holm_p,
                mde=mde,
                identity=identity,
                verdict=verdict,
                reasons=reasons,
            )
        )
    # Reported-only contrasts (gated: false) stay out of the verdict.
    gated = [c for c in contrasts if c.gated]
    counts = {v: sum(c.verdict == v for c in gated) for v in ("PASS", "FAIL", "INCONCLUSIVE")}
    overall: Verdict = "INCONCLUSIVE"
    if counts["FAIL"]:
        overall = "FAIL"
    elif gated and counts["PASS"] == len(gated):
        overall = "PASS"
    summary = Summary(
        experiment=config.experiment,
        config_sha256=config.config_hash(),
        margin=analysis.margin,
        alpha=analysis.alpha,
        method=analysis.method,
        h_cutoff=analysis.h_cutoff,
        refusal_judge=analysis.judge,
        capability_judge=analysis.capability_judge,
        score_judge=analysis.score_judge,
        rates=_rates(records, outcome_of),
        contrasts=contrasts,
        scores=capability_scores(records),
        score_diffs=score_diffs(config, records),
        arms=[_arm_summary(arm) for arm in sorted(arms, key=lambda a: a.arm)],
        judging=_judging(records),
        judge_digests=digests,
        unparseable=unparseable_counts(records),
        agreement=[
            cell
            for judge_a, judge_b in itertools.combinations(_refusal_judges(records), 2)
            for cell in agreement(records, judge_a, judge_b, alpha=analysis.alpha)
        ],
        verdict=ExperimentVerdict(
            verdict=overall,
            n_contrasts=len(gated),
            n_not_gated=len(contrasts) - len(gated),
            n_pass=counts["PASS"],
            n_fail=counts["FAIL"],
            n_inconclusive=counts["INCONCLUSIVE"],
        ),
        sweeps=sweeps(config, records),
        pooled=pooled_rates(config, records),
    )
    floor = floor_cells(config, records, analysis.alpha)
    if floor:
        summary = summary.model_copy(
            update={"floor": floor, "identity_verdict": identity_verdict(floor)}
        )
    if config.paper is None:
        return summary
    table = reproduction(config, summary, figures if figures is not None else load_figures())
    return summary.model_copy(update={"reproduction": table})
