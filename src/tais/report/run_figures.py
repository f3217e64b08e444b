"""The figures of one published run: which there are, what each is drawn from, its place.

Reproducible figures are drawn from summary.json, divergences.jsonl and config.yaml and live
in `figures/`; the acceptance figure is drawn from the engine's counters, which move between
identical runs, so it lives in `volatile/` like them. verify re-draws each and compares bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tais.analysis.acceptance import AcceptanceReport
from tais.analysis.floor import ALL_TASKS
from tais.analysis.stats import wilson_ci
from tais.analysis.summary import ContrastResult, Summary
from tais.config.config import ExperimentConfig
from tais.records import Divergence
from tais.report.figures import (
    Bar,
    Interval,
    SweepPoint,
    bar_plot,
    ecdf_plot,
    interval_plot,
    sweep_plot,
)

FIGURES = "figures"
ACCEPTANCE = "acceptance.svg"


@dataclass(frozen=True)
class Drawn:
    """A figure: its path relative to the run folder, a caption, and its SVG text."""

    path: str
    caption: str
    svg: str


def contrast_label(c: ContrastResult) -> str:
    return f"{c.a} vs {c.b} · {c.task}"


def forest(summary: Summary) -> str:
    level = f"{100 * (1 - 2 * summary.alpha):.0f}%"
    rows = [
        Interval(
            contrast_label(c), c.diff, c.ci_low, c.ci_high, group=c.verdict, hollow=not c.gated
        )
        for c in summary.contrasts
    ]
    return interval_plot(
        rows,
        title=f"B - A with its {level} interval; band: margin +/-{100 * summary.margin:.1f} pp",
        xlabel="difference in rate, B - A (percentage points)",
        band=summary.margin,
        scale=100.0,
    )


def identity(summary: Summary) -> str:
    bars = [
        Bar(
            contrast_label(c),
            (c.identity.token_identical_share, c.identity.bytes_identical_share),
        )
        for c in summary.contrasts
    ]
    return bar_plot(
        bars,
        title="Paired outputs that are identical",
        xlabel="share of items",
        series=("token-identical", "byte-identical"),
    )


def floor_figure(summary: Summary) -> str | None:
    """Identity under speculation beside identity under each floor arm, per contrast."""
    rows = [c for c in summary.floor if c.task == ALL_TASKS]
    if not rows:
        return None
    width = max(len(c.floor_arms) for c in rows)
    bars = [
        Bar(
            c.contrast.replace("~", " vs "),
            (
                1 - c.changed / c.n,
                *[1 - f.changed / c.n for f in c.floor_arms],
                *[None] * (width - len(c.floor_arms)),
            ),
        )
        for c in rows
    ]
    floor_names = tuple(f"floor arm {i + 1} (target only)" for i in range(width))
    return bar_plot(
        bars,
        title="Outputs identical to the reference: under speculation and under the floor",
        xlabel="share of items identical (token ids)",
        series=("speculation", *floor_names),
    )


def value_contrasts(config: ExperimentConfig) -> list[str]:
    """Contrasts whose arms differ in dtype or seed: what the share of bytes changed is for."""
    found = []
    for contrast in config.contrasts:
        a, b = config.arm(contrast.a), config.arm(contrast.b)
        dtypes = (a.dtype or config.engine.dtype, b.dtype or config.engine.dtype)
        seeds = tuple(config.engine.seed if x.seed is None else x.seed for x in (a, b))
        if dtypes[0] != dtypes[1] or seeds[0] != seeds[1]:
            found.append(contrast.name)
    return found


def bytes_changed(config: ExperimentConfig, divergences: list[Divergence]) -> str | None:
    series = []
    for name in value_contrasts(config):
        shares = [d.bytes_changed_share for d in divergences if d.contrast == name]
        if shares:
            series.append((name.replace("~", " vs "), shares))
    if not series:
        return None
    return ecdf_plot(
        series,
        title="Differing outputs of dtype and seed contrasts: share of bytes changed",
        xlabel="share of bytes changed (1 - similarity of the UTF-8 bytes)",
    )


def run_figures(
    config: ExperimentConfig, summary: Summary, divergences: list[Divergence]
) -> list[Drawn]:
    """The reproducible figures, in the order report.md lists them."""
    drawn = []
    if summary.contrasts:
        drawn += [
            Drawn(
                f"{FIGURES}/forest.svg",
                "Each contrast's difference against the margin",
                forest(summary),
            ),
            Drawn(f"{FIGURES}/identity.svg", "Identical outputs per contrast", identity(summary)),
        ]
        changed = bytes_changed(config, divergences)
        if changed is not None:
            drawn.append(
                Drawn(
                    f"{FIGURES}/bytes-changed.svg", "Share of bytes changed (dtype, seed)", changed
                )
            )
    floor = floor_figure(summary)
    if floor is not None:
        drawn.append(Drawn(f"{FIGURES}/floor.svg", "Speculation against the numerics floor", floor))
    if summary.sweeps:
        drawn.append(Drawn(f"{FIGURES}/n-sweep.svg", "Rate against N", sweep_figure(summary)))
    return drawn


def sweep_figure(summary: Summary) -> str:
    """Each sweep row's rate against N, with the Wilson 95% band of each point."""
    series = []
    for row in summary.sweeps:
        points = []
        for p in row.points:
            low, high = wilson_ci(p.k, row.n_items)
            points.append((float(p.n), p.rate, low, high))
        series.append((f"{row.pair} {row.group} {row.task}", points))
    return n_sweep(series)


def figure_links(drawn: list[Drawn]) -> str:
    """The section report.md ends with: each figure as an image link (a code host shows it)."""
    if not drawn:
        return ""
    lines = ["", "## Figures", ""]
    for d in drawn:
        lines += [f"![{d.caption}]({d.path})", ""]
    return "\n".join(lines)


def acceptance_figure(report: AcceptanceReport) -> str | None:
    """Accepted over proposed draft tokens per speculative arm, by domain then by task, pooled
    over the outputs' own counters; None if no arm drafted anything."""
    bars = []
    for arm in report.arms:
        if not arm.reported or not any(a.draft_tokens for a in arm.domains.values()):
            continue
        bars += [Bar(f"{arm.arm}: {d}", (a.acceptance,)) for d, a in arm.domains.items()]
        bars += [Bar(f"{arm.arm}: {t}", (a.acceptance,)) for t, a in arm.tasks.items()]
    if not bars:
        return None
    return bar_plot(
        bars,
        title="Draft tokens accepted by domain and task (engine counters; volatile)",
        xlabel="accepted / proposed draft tokens",
        series=("acceptance",),
    )


def n_sweep(series: list[tuple[str, list[tuple[float, float, float, float]]]]) -> str:
    """Per named series, (N, rate, low, high) points: the rate against N with its band."""
    return sweep_plot(
        [(label, [SweepPoint(*p) for p in points]) for label, points in series],
        title="Rate against N",
        ylabel="rate",
    )
