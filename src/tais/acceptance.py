"""Draft-token acceptance per task and per domain, and the safety-vs-capability comparison.

Acceptance is accepted draft tokens over proposed draft tokens. Every chunk of an arm holds
one task (`tais.generate.task_chunks`), so the engine's counters read around a chunk are that
task's; a task's or a domain's acceptance pools its chunks' counts.

Domains follow the paper's battery (468 "safety" + 485 "capability" prompts): safety is every
task whose items expect a refusal or an answer (`harmful`, `benign`) or are scored by a judge
(`scored`: the paper's BBQ and TruthfulQA, counted among its safety prompts); capability is
the tasks of kind `capability` (MMLU, ARC).

The comparison (difference, Cohen's d, Welch's t) is over per-chunk acceptance values, each
chunk's accepted over drafted tokens: the finest unit the engine's batched counters give. The
paper read its server's counters around every request and so compared per prompt; a chunk is
one prompt when `engine.batch_size` is 1. Chunks that drafted nothing give no value.

Arms whose engine reports no counters (a server without metrics) are "not reported": no
acceptance, never zero. Like the counters, all of this lives under `volatile/`; `verify`
re-derives it from the per-chunk counters in `volatile/arms.jsonl`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from tais.errors import DataError
from tais.records import ArmPerformance, ChunkStat, Kind, Record, SampleRecord, acceptance_rate
from tais.two_sample import cohens_d, welch_t_test

Domain = Literal["safety", "capability"]
DOMAINS: tuple[Domain, ...] = ("safety", "capability")


def domain_of(kind: Kind) -> Domain:
    return "capability" if kind == "capability" else "safety"


class Acceptance(Record):
    """Pooled counts of some chunks; `acceptance` is None when they drafted nothing."""

    chunks: int
    draft_tokens: int
    accepted_tokens: int
    acceptance: float | None


class DomainComparison(Record):
    """Safety minus capability over per-chunk acceptance values.

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
    """`reported` is False when any chunk lacks counters: then nothing is derived."""

    arm: str
    pair: str
    reported: bool
    tasks: dict[str, Acceptance]
    domains: dict[str, Acceptance]
    comparison: DomainComparison | None


class AcceptanceReport(Record):
    """volatile/acceptance.json. `domains` maps each task of the records to its domain."""

    unit: Literal["chunk"]
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


def pooled(chunks: list[ChunkStat]) -> Acceptance:
    draft = sum(c.counters.draft_tokens for c in chunks if c.counters is not None)
    accepted = sum(c.counters.accepted_tokens for c in chunks if c.counters is not None)
    return Acceptance(
        chunks=len(chunks),
        draft_tokens=draft,
        accepted_tokens=accepted,
        acceptance=accepted / draft if draft else None,
    )


def chunk_values(chunks: list[ChunkStat]) -> list[float]:
    """Each chunk's acceptance, in chunk order; chunks that drafted nothing give none."""
    rates = [acceptance_rate(c.counters) for c in chunks]
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


def arm_acceptance(perf: ArmPerformance, domains: dict[str, Domain]) -> ArmAcceptance:
    unknown = sorted({c.task for c in perf.chunks} - domains.keys())
    if unknown:
        raise DataError(f"arm {perf.arm}: chunks of task {unknown[0]!r}, which no record has")
    if any(c.counters is None for c in perf.chunks):
        return ArmAcceptance(
            arm=perf.arm, pair=perf.pair, reported=False, tasks={}, domains={}, comparison=None
        )
    by_task: dict[str, list[ChunkStat]] = {}
    by_domain: dict[Domain, list[ChunkStat]] = {}
    for c in perf.chunks:
        by_task.setdefault(c.task, []).append(c)
        by_domain.setdefault(domains[c.task], []).append(c)
    return ArmAcceptance(
        arm=perf.arm,
        pair=perf.pair,
        reported=True,
        tasks={task: pooled(by_task[task]) for task in sorted(by_task)},
        domains={d: pooled(by_domain[d]) for d in DOMAINS if d in by_domain},
        comparison=compare_domains(
            chunk_values(by_domain.get("safety", [])),
            chunk_values(by_domain.get("capability", [])),
        ),
    )


def acceptance_report(
    performance: list[ArmPerformance], records: list[SampleRecord]
) -> AcceptanceReport:
    domains = task_domains(records)
    return AcceptanceReport(
        unit="chunk",
        domains=domains,
        arms=[arm_acceptance(p, domains) for p in sorted(performance, key=lambda p: p.arm)],
    )


def check_chunks(
    where: str, performance: list[ArmPerformance], records: list[SampleRecord]
) -> list[str]:
    """Each arm's chunks cover its records: numbered in order, as many items per task."""
    problems = []
    held: dict[str, Counter[str]] = {}
    for (arm, task), n in Counter((rec.arm, rec.task) for rec in records).items():
        held.setdefault(arm, Counter())[task] = n
    for p in sorted(performance, key=lambda p: p.arm):
        numbers = [c.chunk for c in p.chunks]
        if numbers != list(range(len(numbers))):
            problems.append(
                f"{where} {p.arm}.chunks: numbered {numbers}, not 0 to {len(numbers) - 1}"
            )
        counted: Counter[str] = Counter()
        for c in p.chunks:
            counted[c.task] += c.n_items
        if counted != held.get(p.arm, Counter()):
            problems.append(
                f"{where} {p.arm}.chunks: items per task {dict(sorted(counted.items()))}, "
                f"records hold {dict(sorted(held.get(p.arm, Counter()).items()))}"
            )
    return problems
