"""What a run measured and no re-run reproduces: speed, start-up and acceptance per arm.

These numbers live under `validation/<experiment>/volatile/`, apart from the files a re-run
must reproduce byte for byte. vLLM's acceptance counters belong here too: on one machine and
one battery they have moved by one accepted token between otherwise identical runs.
`verify` still re-derives what follows from them (tokens/s, acceptance, performance.md).
"""

from __future__ import annotations

import math

from tais.records import ArmPerformance, PublishedArm

# Relative tolerance for re-derived floats: two IEEE divisions of the same integers agree to
# the last bit, so anything looser than this hides a real edit.
REL_TOL = 1e-12


def _opt(x: float | None, fmt: str) -> str:
    return "-" if x is None else fmt.format(x)


def render_performance(experiment: str, performance: list[ArmPerformance]) -> str:
    lines = [
        f"# TAIS measurements: {experiment}",
        "",
        "Timings, speed and the engine's acceptance counters of this run. No re-run reproduces",
        "them exactly, so they are kept apart from the report; `tais verify` re-derives",
        "tokens/s and acceptance from the counts below.",
        "",
        "| arm | pair | start-up (s) | wall (s) | tokens | tokens/s | draft tokens | accepted | "
        "acceptance | accepted per position | resumed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in sorted(performance, key=lambda p: p.arm):
        c = p.counters
        counts = (
            f"{c.draft_tokens} | {c.accepted_tokens} | {_opt(p.acceptance_rate, '{:.3f}')} | "
            f"{' '.join(str(x) for x in c.accepted_per_position) or '-'}"
            if c is not None
            else "not reported | not reported | - | -"
        )
        lines.append(
            f"| {p.arm} | {p.pair} | {p.startup_s:.1f} | {p.wall_s:.2f} | {p.n_tokens} | "
            f"{p.tokens_per_s:.0f} | {counts} | {'yes' if p.resumed else 'no'} |"
        )
    lines += [
        "",
        "Speed on CPU with tiny models is not expected to improve with speculation; "
        'it is reported as measured. "not reported": the engine (a server without '
        "speculative counters) gave none, which is not zero.",
        "",
    ]
    return "\n".join(lines)


def _differs(stored: float | None, derived: float | None) -> bool:
    if stored is None or derived is None:
        return stored is not derived
    return not math.isclose(stored, derived, rel_tol=REL_TOL, abs_tol=0.0)


def check_performance(
    where: str, arms: list[PublishedArm], performance: list[ArmPerformance]
) -> list[str]:
    """Problems: an arm missing on either side, a token count that disagrees with arms.jsonl,
    or a rate that does not follow from its counts."""
    problems = []
    published = {a.arm: a for a in arms}
    measured = {p.arm: p for p in performance}
    for arm in sorted(published.keys() - measured.keys()):
        problems.append(f"{where}: arm {arm!r} of arms.jsonl has no measurements")
    for arm in sorted(measured.keys() - published.keys()):
        problems.append(f"{where}: arm {arm!r} is not in arms.jsonl")
    for arm in sorted(published.keys() & measured.keys()):
        p = measured[arm]
        if p.n_tokens != published[arm].n_tokens:
            problems.append(
                f"{where} {arm}.n_tokens: {p.n_tokens}, arms.jsonl says {published[arm].n_tokens}"
            )
        speed = p.n_tokens / p.wall_s if p.wall_s > 0 else 0.0
        if _differs(p.tokens_per_s, speed):
            problems.append(
                f"{where} {arm}.tokens_per_s: stored {p.tokens_per_s!r}, re-derived {speed!r}"
            )
        c = p.counters
        acceptance = c.accepted_tokens / c.draft_tokens if c and c.draft_tokens else None
        if _differs(p.acceptance_rate, acceptance):
            problems.append(
                f"{where} {arm}.acceptance_rate: stored {p.acceptance_rate!r}, "
                f"re-derived {acceptance!r}"
            )
        if c is not None and sum(c.accepted_per_position) not in (0, c.accepted_tokens):
            problems.append(
                f"{where} {arm}.counters: accepted per position sums to "
                f"{sum(c.accepted_per_position)}, accepted tokens are {c.accepted_tokens}"
            )
    return problems
