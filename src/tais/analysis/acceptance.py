"""Draft-token acceptance per task and per domain, and the safety-vs-capability comparison.

Acceptance is accepted draft tokens over proposed draft tokens. Each output carries its own
speculative counters (vLLM's per-request metrics, see tais.generate.backends), released as
`volatile/item_counters.jsonl`; a task's or a domain's acceptance pools its items' counts,
however the engine's batches mixed tasks.

Domains follow the paper's battery (468 "safety" + 485 "capability" prompts): safety is every
task whose items expect a refusal or an answer (`harmful`, `benign`) or are scored by a judge
(`scored`: the paper's BBQ and TruthfulQA, counted among its safety prompts); capability is
the tasks of kind `capability` (MMLU, ARC).

The comparison (difference, Cohen's d, Welch's t) is over per-prompt acceptance values, each
item's accepted over drafted tokens, as the paper compared them. Items that drafted nothing
give no value.

Arms without per-item counters (a server that reports none per request, reached at a
concurrency above 1) are "not reported" here: no acceptance, never zero; their whole-arm
counters, if any, still show in performance.md. Like the counters, all of this lives under
`volatile/`; `verify` re-derives it from `volatile/item_counters.jsonl`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from tais.analysis.two_sample import cohens_d, welch_t_test
from tais.errors import DataError
from tais.records import (
    DOMAINS,
    ArmPerformance,
    Domain,
    ItemCounters,
    Record,
    SampleRecord,
    SpecCounters,
    acceptance_rate,
    domain_of,
)


class Acceptance(Record):
    """Pooled counts of some items; `acceptance` is None when they drafted nothing."""

    items: int
    draft_tokens: int
    accepted_tokens: int
    acceptance: float | None


class DomainComparison(Record):
    """Safety minus capability over per-prompt acceptance values.

    d, t, df and p are None where they are not finite (both samples constant: no scale).
    """

    n_safety: int
    n_capability: int
    mean_safety: float
    mean_capability: float
    difference: float
    cohens_d: float | None
    welch_t: float | None
    welch_df: float | None
    welch_p: float | None


class ArmAcceptance(Record):
    """`reported` is False when the arm's outputs carry no counters: then nothing is derived."""

    arm: str
    pair: str
    reported: bool
    tasks: dict[str, Acceptance]
    domains: dict[str, Acceptance]
    comparison: DomainComparison | None


class AcceptanceReport(Record):
    """volatile/acceptance.json. `domains` maps each task of the records to its domain."""

    unit: Literal["item"]
    domains: dict[str, Domain]
    arms: list[ArmAcceptance]


def task_domains(records: Iterable[SampleRecord]) -> dict[str, Domain]:
    """Each task's domain, from its records' kinds; a task in both domains is refused."""
    found: dict[str, set[Domain]] = {}
    for task, kind in {(rec.task, rec.kind) for rec in records}:
        found.setdefault(task, set()).add(domain_of(kind))
    mixed = sorted(task for task, domains in found.items() if len(domains) > 1)
    if mixed:
        raise DataError(
            f"task {mixed[0]!r} holds both safety and capability items, so its acceptance "
            "belongs to no one domain"
        )
    return {task: next(iter(domains)) for task, domains in sorted(found.items())}


def pooled(counters: list[SpecCounters]) -> Acceptance:
    draft = sum(c.draft_tokens for c in counters)
    accepted = sum(c.accepted_tokens for c in counters)
    return Acceptance(
        items=len(counters),
        draft_tokens=draft,
        accepted_tokens=accepted,
        acceptance=accepted / draft if draft else None,
    )


def item_values(counters: list[SpecCounters]) -> list[float]:
    """Each item's acceptance, in the order given; items that drafted nothing give none."""
    rates = [acceptance_rate(c) for c in counters]
    return [rate for rate in rates if rate is not None]


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def compare_domains(safety: list[float], capability: list[float]) -> DomainComparison | None:
    """None unless each domain has at least 2 values (no variance from fewer)."""
    if len(safety) < 2 or len(capability) < 2:
        return None
    welch = welch_t_test(safety, capability)
    return DomainComparison(
        n_safety=len(safety),
        n_capability=len(capability),
        mean_safety=math.fsum(safety) / len(safety),
        mean_capability=math.fsum(capability) / len(capability),
        difference=welch.diff,
        cohens_d=_finite(cohens_d(safety, capability)),
        welch_t=_finite(welch.statistic),
        welch_df=_finite(welch.df),
        welch_p=_finite(welch.p_value),
    )


def arm_acceptance(
    perf: ArmPerformance,
    counters: dict[str, SpecCounters],
    records: list[SampleRecord],
    domains: dict[str, Domain],
) -> ArmAcceptance:
    """`counters`: the arm's per-item counters by item id; `records`: the arm's records, in
    the order the comparison takes its values (by item id, as published)."""
    if not counters:
        return ArmAcceptance(
            arm=perf.arm, pair=perf.pair, reported=False, tasks={}, domains={}, comparison=None
        )
    by_task: dict[str, list[SpecCounters]] = {}
    by_domain: dict[Domain, list[SpecCounters]] = {}
    for rec in records:
        by_task.setdefault(rec.task, []).append(counters[rec.item_id])
        by_domain.setdefault(domains[rec.task], []).append(counters[rec.item_id])
    return ArmAcceptance(
        arm=perf.arm,
        pair=perf.pair,
        reported=True,
        tasks={task: pooled(by_task[task]) for task in sorted(by_task)},
        domains={d: pooled(by_domain[d]) for d in DOMAINS if d in by_domain},
        comparison=compare_domains(
            item_values(by_domain.get("safety", [])),
            item_values(by_domain.get("capability", [])),
        ),
    )


def counters_by_arm(
    item_counters: list[ItemCounters], records: list[SampleRecord]
) -> dict[str, dict[str, SpecCounters]]:
    """Per arm, its items' counters; an arm has counters for all of its records or none.

    Raises DataError naming the first line that is not a record's, repeats one, or leaves
    some of its arm's records without counters."""
    held: dict[str, set[str]] = {}
    for rec in records:
        held.setdefault(rec.arm, set()).add(rec.item_id)
    found: dict[str, dict[str, SpecCounters]] = {}
    for line in item_counters:
        if line.item_id not in held.get(line.arm, set()):
            raise DataError(f"arm {line.arm!r} item {line.item_id!r}: counters but no record")
        mine = found.setdefault(line.arm, {})
        if line.item_id in mine:
            raise DataError(f"arm {line.arm!r} item {line.item_id!r}: counters listed twice")
        mine[line.item_id] = line.counters
    for arm, mine in sorted(found.items()):
        missing = sorted(held[arm] - mine.keys())
        if missing:
            raise DataError(
                f"arm {arm!r}: {len(missing)} record(s) without counters (e.g. {missing[0]!r}), "
                "while others of the arm have them"
            )
    return found


def acceptance_report(
    performance: list[ArmPerformance],
    item_counters: list[ItemCounters],
    records: list[SampleRecord],
) -> AcceptanceReport:
    domains = task_domains(records)
    found = counters_by_arm(item_counters, records)
    by_arm: dict[str, list[SampleRecord]] = {}
    for rec in sorted(records, key=lambda r: (r.arm, r.item_id)):
        by_arm.setdefault(rec.arm, []).append(rec)
    return AcceptanceReport(
        unit="item",
        domains=domains,
        arms=[
            arm_acceptance(p, found.get(p.arm, {}), by_arm.get(p.arm, []), domains)
            for p in sorted(performance, key=lambda p: p.arm)
        ],
    )


def item_counters_of(
    arm: str, counters: list[tuple[str, SpecCounters | None]]
) -> list[ItemCounters]:
    """The lines an arm contributes to volatile/item_counters.jsonl, from (item id, counters)
    of its outputs: all of them, or none if any output lacks counters (no partial pools)."""
    if any(c is None for _, c in counters):
        return []
    return [
        ItemCounters(arm=arm, item_id=item_id, counters=c)
        for item_id, c in sorted(counters)
        if c is not None
    ]


def check_chunks(
    where: str, performance: list[ArmPerformance], records: list[SampleRecord]
) -> list[str]:
    """Each arm's chunks are numbered in order and hold as many items as it has records."""
    problems = []
    held = Counter(rec.arm for rec in records)
    for p in sorted(performance, key=lambda p: p.arm):
        numbers = [c.chunk for c in p.chunks]
        if numbers != list(range(len(numbers))):
            problems.append(
                f"{where} {p.arm}.chunks: numbered {numbers}, not 0 to {len(numbers) - 1}"
            )
        counted = sum(c.n_items for c in p.chunks)
        if counted != held.get(p.arm, 0):
            problems.append(
                f"{where} {p.arm}.chunks: {counted} items, records hold {held.get(p.arm, 0)}"
            )
    return problems


def check_item_sums(
    where: str, performance: list[ArmPerformance], item_counters: list[ItemCounters]
) -> list[str]:
    """An arm's item counters add up to its chunks' counters, where it has both: the engine
    counts each verify step once, for the request it served."""
    summed: dict[str, list[SpecCounters]] = {}
    for line in item_counters:
        summed.setdefault(line.arm, []).append(line.counters)
    problems = []
    for p in sorted(performance, key=lambda p: p.arm):
        mine = summed.get(p.arm)
        if mine is None or p.counters is None:
            continue
        total = SpecCounters()
        for c in mine:
            total = total.plus(c)
        if not _same_counts(total, p.counters):
            problems.append(
                f"{where}: arm {p.arm!r}: the items' counters sum to {total.model_dump()}, "
                f"the chunks' to {p.counters.model_dump()}"
            )
    return problems


def _same_counts(a: SpecCounters, b: SpecCounters) -> bool:
    """Equal, a per-position list of zeros counting as the empty one (an engine without
    speculation gives none)."""
    width = max(len(a.accepted_per_position), len(b.accepted_per_position))

    def padded(c: SpecCounters) -> list[int]:
        return c.accepted_per_position + [0] * (width - len(c.accepted_per_position))

    return (a.drafts, a.draft_tokens, a.accepted_tokens, padded(a)) == (
        b.drafts,
        b.draft_tokens,
        b.accepted_tokens,
        padded(b),
    )
