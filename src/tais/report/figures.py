"""Figures as SVG text, drawn so that the same inputs give the same bytes on any machine.

matplotlib is imported inside `draw` only: the CLI and verify's other checks start without it.
Each figure is drawn on a fresh `Figure` (no pyplot state) inside one rc context that fixes
everything an SVG would otherwise vary by: the id salt, the font (DejaVu Sans, shipped with
matplotlib, drawn as paths so no viewer substitutes another), and the date and creator
metadata, which are left out. The pinned matplotlib version is part of the bytes' recipe.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

# The fixed rc settings; anything not listed is matplotlib's default (never a user's rc file:
# see `draw`).
STYLE: dict[str, Any] = {
    "svg.hashsalt": "tais",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 72.0,
}

VERDICT_COLOURS = {"PASS": "#1b7837", "FAIL": "#b2182b", "INCONCLUSIVE": "#d9a000"}
NEUTRAL = "#2c5d8f"
SECOND = "#9ecae1"
THIRD = "#c7c7c7"


@dataclass(frozen=True)
class Interval:
    """One row of an interval plot: a point estimate with its interval.

    `group` picks the colour (a verdict, or "" for the neutral colour); `hollow` draws the
    point as an open circle (a contrast that is reported but not gated)."""

    label: str
    value: float
    low: float
    high: float
    group: str = ""
    hollow: bool = False


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart; a None share is drawn as a gap labelled `missing`."""

    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class SweepPoint:
    n: float
    rate: float
    low: float
    high: float


def draw(paint: Callable[[Any], None], width: float, height: float) -> str:
    """The SVG text of a `width` x `height` inch figure that `paint(figure)` fills."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    # rc_file_defaults first: a matplotlibrc on the reader's machine must not move a byte.
    with matplotlib.rc_context():
        matplotlib.rc_file_defaults()
        # rcParams types its keys as a Literal of every setting's name.
        matplotlib.rcParams.update(cast(Any, STYLE))
        figure = Figure(figsize=(width, height))
        FigureCanvasSVG(figure)
        paint(figure)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return out.getvalue()


WIDTH = 9.0


def _height(rows: int) -> float:
    return 1.3 + 0.3 * max(rows, 1)


def _row_axes(figure: Any, labels: list[str]) -> Any:
    """Axes for one row per label, leaving the labels (about 0.075 in per character at 9 pt)
    room on the left and the title and legend room on top."""
    height = _height(len(labels))
    left = min(0.6, (0.2 + 0.075 * max((len(x) for x in labels), default=1)) / WIDTH)
    bottom, top = 0.6 / height, 0.55 / height
    return figure.add_axes((left, bottom, 0.97 - left, 1 - bottom - top))


def _legend_on_top(ax: Any, handles: list[Any]) -> None:
    ax.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=len(handles),
        fontsize=7,
        frameon=False,
        borderaxespad=0.2,
    )


def interval_plot(
    rows: list[Interval],
    *,
    title: str,
    xlabel: str,
    band: float | None = None,
    scale: float = 1.0,
    xlim: tuple[float, float] | None = None,
) -> str:
    """Rows top to bottom, each a point with its interval; `band` shades +/-band around 0
    (an equivalence margin) and draws the zero line. Values are multiplied by `scale`."""

    def paint(figure: Any) -> None:
        ax = _row_axes(figure, [row.label for row in rows])
        ys = list(range(len(rows)))[::-1]
        if band is not None:
            ax.axvspan(-band * scale, band * scale, color="#e8e8e8", zorder=0, lw=0)
            ax.axvline(0.0, color="#777777", lw=0.8, zorder=1)
            for edge in (-band * scale, band * scale):
                ax.axvline(edge, color="#999999", lw=0.6, ls="--", zorder=1)
        for y, row in zip(ys, rows, strict=True):
            colour = VERDICT_COLOURS.get(row.group, NEUTRAL)
            ax.plot([row.low * scale, row.high * scale], [y, y], color=colour, lw=1.6, zorder=2)
            ax.plot(
                [row.value * scale],
                [y],
                "o",
                ms=5,
                color=colour,
                mfc="white" if row.hollow else colour,
                zorder=3,
            )
        ax.set_yticks(ys, [row.label for row in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        if xlim is not None:
            ax.set_xlim(*xlim)
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left", pad=16)
        groups = [g for g in VERDICT_COLOURS if any(r.group == g for r in rows)]
        if groups:
            handles = [ax.plot([], [], "o", color=VERDICT_COLOURS[g], label=g)[0] for g in groups]
            if any(r.hollow for r in rows):
                handles.append(
                    ax.plot([], [], "o", color="#555555", mfc="white", label="not gated")[0]
                )
            _legend_on_top(ax, handles)

    return draw(paint, WIDTH, _height(len(rows)))


def bar_plot(
    bars: list[Bar], *, title: str, xlabel: str, series: tuple[str, ...], xlim: float = 1.0
) -> str:
    """Horizontal bars, one group per row and one bar per series; a None value is marked."""
    colours = (NEUTRAL, SECOND, THIRD)

    def paint(figure: Any) -> None:
        from matplotlib.patches import Patch
        from matplotlib.ticker import PercentFormatter

        ax = _row_axes(figure, [bar.label for bar in bars])
        ys = list(range(len(bars)))[::-1]
        width = 0.8 / len(series)
        for s in range(len(series)):
            offset = (len(series) - 1) / 2 * width - s * width
            for y, bar in zip(ys, bars, strict=True):
                value = bar.values[s]
                if value is None:
                    ax.text(0.005 * xlim, y + offset, "not measured", va="center", fontsize=7)
                    continue
                ax.barh(y + offset, value, height=width, color=colours[s % len(colours)])
                ax.text(value, y + offset, f" {100 * value:.1f}%", va="center", fontsize=7)
        ax.set_yticks(ys, [bar.label for bar in bars])
        ax.set_ylim(-0.7, len(bars) - 0.3)
        ax.set_xlim(0.0, xlim * 1.12)
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left", pad=16)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        _legend_on_top(
            ax,
            [Patch(color=colours[s % len(colours)], label=name) for s, name in enumerate(series)],
        )

    return draw(paint, WIDTH, _height(len(bars)))


def ecdf_plot(series: list[tuple[str, list[float]]], *, title: str, xlabel: str) -> str:
    """One empirical distribution function per named series, on [0, 1]."""

    def paint(figure: Any) -> None:
        ax = figure.add_axes((0.1, 0.16, 0.62, 0.72))
        for label, values in series:
            xs = sorted(values)
            n = len(xs)
            ax.step(
                [0.0, *xs, 1.0],
                [0.0, *[(i + 1) / n for i in range(n)], 1.0],
                where="post",
                label=f"{label} (n={n})",
                lw=1.4,
            )
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share of differing outputs at or below")
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)

    return draw(paint, WIDTH, 3.6)


def sweep_plot(
    series: list[tuple[str, list[SweepPoint]]], *, title: str, ylabel: str, xlabel: str = "N"
) -> str:
    """A rate against N per named series, with its interval as a band."""

    def paint(figure: Any) -> None:
        ax = figure.add_axes((0.1, 0.16, 0.62, 0.72))
        for label, points in series:
            points = sorted(points, key=lambda p: p.n)
            xs = [p.n for p in points]
            (line,) = ax.plot(xs, [p.rate for p in points], "o-", ms=3.5, lw=1.4, label=label)
            ax.fill_between(
                xs,
                [p.low for p in points],
                [p.high for p in points],
                color=line.get_color(),
                alpha=0.2,
                lw=0,
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)

    return draw(paint, WIDTH, 3.6)
