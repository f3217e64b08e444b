"""Recompute each of the paper's figures from its own stated inputs.

A figure follows when the value recomputed from its inputs rounds to what is printed: it lies
within half a unit of the last printed digit. Figures printed without inputs are listed as
stated only. The check is a report on the paper, not a gate on a run.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tais.analysis.stats import mcnemar_exact, wilson_ci
from tais.config.paper_figures import (
    FIGURES,
    Figure,
    FigureFile,
    Printed,
    load_figures,
    parse_number,
    parse_range,
)
from tais.errors import ConfigError


class FigureCheck(BaseModel):
    """One printed quantity of a figure against its recomputation.

    follows: True or False when there was something to recompute from; None when the figure
    was printed without inputs (or as the counts themselves).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    figure: str
    quantity: str
    printed: str
    recomputed: str | None
    follows: bool | None
    basis: str
    note: str | None = None


class PaperCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    checks: list[FigureCheck]

    @property
    def mismatches(self) -> list[FigureCheck]:
        """The quantities that do not follow from their own inputs."""
        return [c for c in self.checks if c.follows is False]


def paper_figure_check(path: Path = FIGURES) -> PaperCheck:
    """Load the figures file and recompute every figure from its stated inputs."""
    return check_figures(load_figures(path))


def check_figures(figures: FigureFile) -> PaperCheck:
    by_id = figures.by_id()
    checks: list[FigureCheck] = []
    for figure in figures.figures:
        checks.extend(_check(figure, by_id))
    return PaperCheck(checks=checks)


def _close(printed: Printed, value: float) -> bool:
    # A relative sliver above half a unit absorbs binary rounding of exact ties.
    return abs(value - printed.value) <= printed.half_unit * (1.0 + 1e-9)


def _row(
    figure: Figure,
    quantity: str,
    printed: str,
    recomputed: str | None,
    follows: bool | None,
    basis: str,
) -> FigureCheck:
    return FigureCheck(
        figure=figure.id,
        quantity=quantity,
        printed=printed,
        recomputed=recomputed,
        follows=follows,
        basis=basis,
        note=figure.note,
    )


def resolved_counts(figure: Figure, by_id: dict[str, Figure]) -> tuple[int, int]:
    """(k, n) of a figure: its own, or the sums over the figures it pools."""
    counts = figure.counts
    if counts is not None:
        return counts
    if figure.pooled_from is None:
        raise ConfigError(f"figure {figure.id} states no counts")
    parts = [resolved_counts(by_id[ref], by_id) for ref in figure.pooled_from]
    return sum(k for k, _ in parts), sum(n for _, n in parts)


def count_value(figure: Figure) -> int:
    """The number of generations a `generations` figure prints."""
    return int(parse_number(figure.printed).value)


def _term(term: int | str, by_id: dict[str, Figure]) -> int:
    return term if isinstance(term, int) else count_value(by_id[term])


def _check(figure: Figure, by_id: dict[str, Figure]) -> list[FigureCheck]:
    if figure.sum_of is not None or figure.product_of is not None:
        return [_check_arithmetic(figure, by_id)]
    if figure.only_a is not None and figure.only_b is not None:
        p = mcnemar_exact(figure.only_a, figure.only_b)
        printed = parse_number(figure.printed)
        basis = f"exact McNemar, {figure.only_a} vs {figure.only_b} discordant pairs"
        return [
            _row(figure, "value", figure.printed, printed.format_like(p), _close(printed, p), basis)
        ]
    if figure.range_of is not None:
        return [_check_range(figure, by_id)]
    if figure.score_step is not None and figure.n is not None:
        return [_check_granularity(figure, figure.n, figure.score_step)]
    if figure.counts is not None or figure.pooled_from is not None:
        return _check_share(figure, by_id)
    return [_row(figure, "value", figure.printed, None, None, "printed without inputs")]


def _check_arithmetic(figure: Figure, by_id: dict[str, Figure]) -> FigureCheck:
    terms = figure.sum_of if figure.sum_of is not None else figure.product_of
    assert terms is not None
    values = [_term(t, by_id) for t in terms]
    if figure.sum_of is not None:
        total, sign = sum(values), " + "
    else:
        total, sign = math.prod(values), " x "
    printed = count_value(figure)
    basis = sign.join(
        f"{v:,}" if isinstance(t, int) else f"{v:,} ({t})"
        for t, v in zip(terms, values, strict=True)
    )
    return _row(figure, "value", figure.printed, f"{total:,}", total == printed, basis)


def _check_granularity(figure: Figure, n: int, step: float) -> FigureCheck:
    printed = parse_number(figure.printed)
    steps = round(n / step)
    # The printed mean lies between two reachable means j * step / n; either may round to it.
    below = min(max(math.floor(printed.value * steps), 0), steps)
    candidates = sorted({below, min(below + 1, steps)})
    reachable = [(j * step, j / steps) for j in candidates]
    hits = [(k, v) for k, v in reachable if _close(printed, v)]
    shown = hits or reachable
    recomputed = " or ".join(f"{k:g}/{n} = {printed.format_like(v)}" for k, v in shown)
    basis = f"a mean of {n} scores in steps of {step:g}"
    return _row(figure, "value", figure.printed, recomputed, bool(hits), basis)


def _check_share(figure: Figure, by_id: dict[str, Figure]) -> list[FigureCheck]:
    k, n = resolved_counts(figure, by_id)
    rows: list[FigureCheck] = []
    if figure.pooled_from is not None:
        parts = [resolved_counts(by_id[ref], by_id) for ref in figure.pooled_from]
        pooled = (sum(p[0] for p in parts), sum(p[1] for p in parts))
        stated = figure.counts
        basis = (
            " + ".join(f"{pk:,}" for pk, _ in parts)
            + " of "
            + " + ".join(f"{pn:,}" for _, pn in parts)
        )
        if stated is not None:
            rows.append(
                _row(
                    figure,
                    "counts",
                    f"{stated[0]:,}/{stated[1]:,}",
                    f"{pooled[0]:,}/{pooled[1]:,}",
                    stated == pooled,
                    f"pooled: {basis}",
                )
            )
    if figure.k is None and figure.counts is not None:
        rows.append(_row(figure, "value", figure.printed, None, None, "printed as the counts"))
    else:
        printed = parse_number(figure.printed)
        rows.append(
            _row(
                figure,
                "value",
                figure.printed,
                printed.format_like(k / n),
                _close(printed, k / n),
                f"{k:,}/{n:,}",
            )
        )
    if figure.interval is not None:
        rows.append(_check_interval(figure, figure.interval, k, n))
    return rows


def _check_interval(figure: Figure, interval: str, k: int, n: int) -> FigureCheck:
    ends = parse_range(interval)
    assert ends is not None
    low, high = wilson_ci(k, n)
    follows = _close(ends[0], low) and _close(ends[1], high)
    recomputed = f"[{ends[0].format_like(low)}, {ends[1].format_like(high)}]"
    return _row(figure, "interval", interval, recomputed, follows, f"Wilson 95% of {k:,}/{n:,}")


def _check_range(figure: Figure, by_id: dict[str, Figure]) -> FigureCheck:
    ends = parse_range(figure.printed)
    assert ends is not None and figure.range_of is not None
    shares = []
    for ref in figure.range_of:
        k, n = resolved_counts(by_id[ref], by_id)
        shares.append((n - k) / n if figure.complement else k / n)
    low, high = min(shares), max(shares)
    follows = _close(ends[0], low) and _close(ends[1], high)
    what = "1 - share" if figure.complement else "share"
    recomputed = f"[{ends[0].format_like(low)}, {ends[1].format_like(high)}]"
    return _row(
        figure,
        "range",
        figure.printed,
        recomputed,
        follows,
        f"{what} of {', '.join(figure.range_of)}",
    )
