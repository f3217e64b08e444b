"""report.md sections on identity between arms, the N-sweep and pooled rates."""

from __future__ import annotations

from tais.analysis.summary import Summary


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _share(k: int | None, n: int, low: float | None, high: float | None) -> str:
    if k is None or low is None or high is None:
        return "-"
    return f"{k}/{n} ({_pct(k / n)}, [{_pct(low)}, {_pct(high)}])"


def identity_section(summary: Summary) -> list[str]:
    if not summary.contrasts:
        return []
    level = f"{100 * (1 - summary.alpha):.0f}%"
    lines = [
        "",
        "### Identity between arms",
        "",
        f"Share of paired outputs identical, with its Wilson {level} interval; bytes changed: "
        "the mean share of bytes changed over the items whose outputs differ.",
        "",
        "| contrast | task | tokens identical | bytes identical | "
        "bytes changed where they differ |",
        "|---|---|---|---|---:|",
    ]
    for c in summary.contrasts:
        i = c.identity
        tokens = _share(i.token_identical, i.n, i.token_identical_ci_low, i.token_identical_ci_high)
        same = _share(i.bytes_identical, i.n, i.bytes_identical_ci_low, i.bytes_identical_ci_high)
        changed = "-" if i.bytes_changed_share_mean is None else f"{i.bytes_changed_share_mean:.3f}"
        lines.append(f"| {c.a} vs {c.b} | {c.task} | {tokens} | {same} | {changed} |")
    return lines


def sweep_section(summary: Summary) -> list[str]:
    if not summary.sweeps:
        return []
    first = summary.sweeps[0]
    level = f"{100 * first.ci_level:.0f}%"
    lines = [
        "",
        "## N-sweep",
        "",
        "The rate against the number of speculative tokens N, over one phase's arms on the same "
        "items (an item without a usable label at some N is left out at every N). Slope: the "
        "least-squares change of the rate per speculative token, with a paired percentile "
        f"bootstrap {level} interval over items ({first.n_resamples} resamples, seed "
        f"{first.seed}); range: the largest rate minus the smallest.",
        "",
        "| pair | group | phase | task | metric | items | rate at N | slope (pp per token) | "
        f"{level} CI (pp) | range (pp) |",
        "|---|---|---|---|---|---:|---|---:|---|---:|",
    ]
    for s in summary.sweeps:
        rates = ", ".join(f"{p.n}: {_pct(p.rate)}" for p in s.points)
        lines.append(
            f"| {s.pair} | {s.group} | {s.phase} | {s.task} | {s.metric} | {s.n_items} | "
            f"{rates} | {100 * s.slope:+.3f} | "
            f"[{100 * s.ci_low:+.3f}, {100 * s.ci_high:+.3f}] | {100 * s.largest_range:.1f} |"
        )
    for s in summary.sweeps:
        if s.excluded:
            lines.append(
                f"\n{s.pair}, {s.group}, {s.phase}, {s.task}: {s.excluded} item(s) without a "
                "usable label at some N left out."
            )
    return lines


def pooled_section(summary: Summary) -> list[str]:
    if not summary.pooled:
        return []
    level = f"{100 * summary.pooled[0].ci_level:.0f}%"
    lines = [
        "",
        "## Pooled rates",
        "",
        "Every output of a group's speculative arms on one pair counted as one sample, as the "
        "paper pools its 70B probe's P2 + P3 + P4 (AdvBench: 100 items x 7 arms = 700). The "
        "same items recur in every arm, so the Wilson interval, which takes the outputs as "
        "independent, is narrower than the items alone support.",
        "",
        f"| pair | group | task | metric | arms | k / n | rate | Wilson {level} CI |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for r in summary.pooled:
        lines.append(
            f"| {r.pair} | {r.group} | {r.task} | {r.metric} | {len(r.arms)} | {r.k} / {r.n} | "
            f"{_pct(r.rate)} | [{_pct(r.ci_low)}, {_pct(r.ci_high)}] |"
        )
    return lines
