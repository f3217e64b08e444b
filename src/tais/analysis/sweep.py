"""The N-sweep and pooled rates of a design's groups (config `members`, see tais.config.design).

A sweep is the arms of one pair, group and phase that differ in the number of speculative
tokens N (the paper's P4): per task, the rate at each N over the items every arm has a usable
outcome for, the least-squares slope over N with its seeded bootstrap interval, and the
largest range of the rate over N (tais.analysis.trend). A pooled rate counts every output of a
pair's speculative arms in one group (the paper's P2 + P3 + P4) as one sample, as the paper's E1
AdvBench 587/700 does. A config without members has neither.
"""

from __future__ import annotations

from collections import defaultdict

from tais.analysis.outcomes import metric_of, outcome, tidy
from tais.analysis.stats import wilson_ci
from tais.analysis.trend import sweep_trend
from tais.config.config import ExperimentConfig
from tais.errors import DataError
from tais.records import Kind, Record, SampleRecord


class SweepPoint(Record):
    n: int  # speculative tokens
    arm: str
    k: int | float
    rate: float


class SweepRow(Record):
    """One task of one sweep. `excluded`: items left out because some N has no usable label."""

    pair: str
    group: str
    phase: str
    task: str
    kind: Kind
    metric: str
    n_items: int
    excluded: int
    points: list[SweepPoint]
    slope: float  # rate per speculative token
    ci_low: float
    ci_high: float
    ci_level: float
    largest_range: float
    n_resamples: int
    seed: int


class PooledRate(Record):
    """k of n over `arms`; items recur across the arms, so n counts outputs, not items."""

    pair: str
    group: str
    task: str
    kind: Kind
    metric: str
    arms: list[str]
    k: int | float
    n: int
    excluded: int
    rate: float
    ci_low: float
    ci_high: float
    ci_level: float


def _speculative_members(config: ExperimentConfig) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(pair, group) -> [(phase, arm)] for the speculative arms, in config order."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for member in config.members:
        arm = config.arm(member.arm)
        if arm.speculative is not None:
            found[(arm.pair, member.group)].append((member.phase, arm.name))
    return found


def _by_task(
    records: list[SampleRecord], arms: list[str]
) -> dict[tuple[str, Kind], dict[str, dict[str, SampleRecord]]]:
    """(task, kind) -> arm -> item id -> record."""
    wanted = set(arms)
    found: dict[tuple[str, Kind], dict[str, dict[str, SampleRecord]]] = defaultdict(
        lambda: {arm: {} for arm in arms}
    )
    for r in records:
        if r.arm in wanted:
            found[(r.task, r.kind)][r.arm][r.item_id] = r
    return found


def _sweep_rows(
    config: ExperimentConfig,
    records: list[SampleRecord],
    pair: str,
    group: str,
    phase: str,
    by_n: dict[int, str],
) -> list[SweepRow]:
    analysis = config.analysis
    ns = sorted(by_n)
    rows = []
    where = f"sweep {pair}/{group}/{phase}"
    for (task, kind), per_arm in sorted(_by_task(records, [by_n[n] for n in ns]).items()):
        items = {frozenset(per_arm[by_n[n]]) for n in ns}
        if len(items) != 1:
            raise DataError(f"{where}, task {task}: the arms were not run on the same items")
        usable: dict[int, list[float]] = {n: [] for n in ns}
        excluded = 0
        for item_id in sorted(next(iter(items))):
            outcomes = [outcome(per_arm[by_n[n]][item_id], analysis) for n in ns]
            if any(o is None for o in outcomes):
                excluded += 1
                continue
            for n, o in zip(ns, outcomes, strict=True):
                usable[n].append(o or 0.0)
        if not usable[ns[0]]:
            raise DataError(f"{where}, task {task}: no item has a usable label at every N")
        trend = sweep_trend(
            usable,
            n_resamples=analysis.bootstrap_resamples,
            seed=analysis.bootstrap_seed,
            alpha=analysis.alpha,
        )
        rows.append(
            SweepRow(
                pair=pair,
                group=group,
                phase=phase,
                task=task,
                kind=kind,
                metric=metric_of(kind),
                n_items=trend.n_items,
                excluded=excluded,
                points=[
                    SweepPoint(n=n, arm=by_n[n], k=tidy(sum(usable[n])), rate=rate)
                    for n, rate in zip(ns, trend.rates, strict=True)
                ],
                slope=trend.slope,
                ci_low=trend.ci_low,
                ci_high=trend.ci_high,
                ci_level=1 - analysis.alpha,
                largest_range=trend.largest_range,
                n_resamples=trend.n_resamples,
                seed=trend.seed,
            )
        )
    return rows


def sweeps(config: ExperimentConfig, records: list[SampleRecord]) -> list[SweepRow]:
    """Every sweep of the config: a phase of a group whose arms on one pair differ in N."""
    rows = []
    for (pair, group), members in _speculative_members(config).items():
        phases: dict[str, dict[int, str]] = defaultdict(dict)
        for phase, arm_name in members:
            spec = config.arm(arm_name).speculative
            assert spec is not None
            n = spec.num_speculative_tokens
            if n in phases[phase]:
                raise DataError(
                    f"sweep {pair}/{group}/{phase}: arms {phases[phase][n]} and {arm_name} "
                    f"both run N={n}"
                )
            phases[phase][n] = arm_name
        for phase, by_n in phases.items():
            if len(by_n) > 1:
                rows += _sweep_rows(config, records, pair, group, phase, by_n)
    return rows


def pooled_rates(config: ExperimentConfig, records: list[SampleRecord]) -> list[PooledRate]:
    """Per pair, group and task, every output of the group's speculative arms on that pair
    (where it has more than one) as one sample, with its Wilson interval."""
    analysis = config.analysis
    rows = []
    for (pair, group), members in _speculative_members(config).items():
        arms = [arm for _, arm in members]
        if len(arms) < 2:
            continue
        for (task, kind), per_arm in sorted(_by_task(records, arms).items()):
            outcomes = [outcome(r, analysis) for arm in arms for r in per_arm[arm].values()]
            usable = [o for o in outcomes if o is not None]
            if not usable:
                raise DataError(f"pooled {pair}/{group}, task {task}: no usable label")
            k, n = tidy(sum(usable)), len(usable)
            low, high = wilson_ci(k, n, analysis.alpha)
            rows.append(
                PooledRate(
                    pair=pair,
                    group=group,
                    task=task,
                    kind=kind,
                    metric=metric_of(kind),
                    arms=[arm for arm in arms if per_arm[arm]],
                    k=k,
                    n=n,
                    excluded=len(outcomes) - n,
                    rate=k / n,
                    ci_low=low,
                    ci_high=high,
                    ci_level=1 - analysis.alpha,
                )
            )
    return rows
