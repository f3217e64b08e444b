"""The reproduction table: each figure the paper printed beside what this run measured.

A figure (tais.config.paper_figures) names what it measures by the paper's words: an experiment, a
pair (by its target), arm roles (`target-only`, `speculative-strict`, `bf16`, ...), phases, a
task or domain, and a statistic. An experiment config links those words to its own arms with
a `paper` section (config.PaperLink): which of its pairs stands for each paper pair, and which
of its groups plays each role. The arms' own labels (group, phase) do the rest.

"This run" is computed from the run's Summary alone, so `verify` re-derives it with analyse.
Where the models stand in for the paper's (the CPU profile's tiny models), the row still shows
the tiny models' value: the table then checks the pipeline, not the paper's numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tais.analysis.stats import wilson_ci
from tais.analysis.summary import ContrastResult, Rate, Reproduction, ReproductionRow, Summary
from tais.config.config import ExperimentConfig, PaperLink
from tais.config.paper_figures import (
    ArmRole,
    Figure,
    FigureFile,
    parse_fraction,
    parse_number,
    parse_range,
)
from tais.records import Kind

ACCEPTANCE_ELSEWHERE = "engine counters vary between identical runs: see volatile/performance.md"


@dataclass(frozen=True)
class Labelled:
    """An arm of the run with the design labels the figures are matched on."""

    arm: str
    pair: str
    group: str
    phase: str


def domain_of(kind: Kind) -> str:
    """The paper's two domains: capability tasks, and safety (refusal, bias, truthfulness)."""
    return "capability" if kind == "capability" else "safety"


def _task_matches(figure_task: str | None, task: str, kind: Kind) -> bool:
    if figure_task in (None, "battery"):
        return True
    if figure_task in ("safety", "capability"):
        return domain_of(kind) == figure_task
    return figure_task == task


def labelled_arms(config: ExperimentConfig) -> list[Labelled]:
    pair_of = {arm.name: arm.pair for arm in config.arms}
    return [Labelled(m.arm, pair_of[m.arm], m.group, m.phase) for m in config.members]


class _Matcher:
    def __init__(self, config: ExperimentConfig, link: PaperLink) -> None:
        self.link = link
        self.arms = labelled_arms(config)

    def pairs(self, figure: Figure) -> set[str] | None:
        """This run's pairs for the figure's pair; None when the figure spans every pair."""
        if figure.pair is None:
            return None
        mapped = self.link.pairs.get(figure.pair)
        return {mapped} if mapped is not None else set()

    def arms_of(self, figure: Figure, role: ArmRole | None) -> set[str]:
        pairs = self.pairs(figure)
        groups = set(self.link.roles.get(role, [])) if role is not None else None
        return {
            a.arm
            for a in self.arms
            if (pairs is None or a.pair in pairs)
            and (groups is None or a.group in groups)
            and (not figure.phases or a.phase in figure.phases)
        }

    def all_arms(self, figure: Figure) -> set[str]:
        """The arms of every role the figure names, or of any role when it names none."""
        if not figure.arms:
            return self.arms_of(figure, None)
        return set().union(*(self.arms_of(figure, role) for role in figure.arms))


def _row(
    figure: Figure,
    value: float | None,
    text: str,
    interval: tuple[float, float] | None = None,
    note: str = "",
) -> ReproductionRow:
    paper: float | None = None
    if parse_range(figure.printed) is None:
        counts = parse_fraction(figure.printed)
        paper = counts[0] / counts[1] if counts else parse_number(figure.printed).value
    difference = value - paper if value is not None and paper is not None else None
    inside = None
    if interval is not None and paper is not None:
        inside = interval[0] <= paper <= interval[1]
    return ReproductionRow(
        figure=figure.id,
        description=figure.description,
        statistic=figure.statistic,
        printed=figure.printed,
        paper=paper,
        this_run=value,
        this_run_text=text,
        difference=difference,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        inside=inside,
        note=note,
    )


def _absent(figure: Figure, note: str) -> ReproductionRow:
    return _row(figure, None, "", note=note)


def _share(figure: Figure, k: float, n: int, note: str = "") -> ReproductionRow:
    low, high = wilson_ci(k, n)
    text = f"{_count(k)}/{n:,}"
    return _row(figure, k / n, text, (low, high), note)


def _count(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"


def _rates(summary: Summary, arms: set[str], figure: Figure) -> list[Rate]:
    return [
        r for r in summary.rates if r.arm in arms and _task_matches(figure.task, r.task, r.kind)
    ]


def _contrasts(summary: Summary, m: _Matcher, figure: Figure) -> list[ContrastResult]:
    """The contrasts between the figure's two roles, in either order."""
    if len(figure.arms) != 2:
        return []
    side_0, side_1 = (m.arms_of(figure, role) for role in figure.arms)
    return [
        c
        for c in summary.contrasts
        if ((c.a in side_0 and c.b in side_1) or (c.a in side_1 and c.b in side_0))
        and _task_matches(figure.task, c.task, c.kind)
    ]


def _identity(cells: Iterable[ContrastResult]) -> tuple[int, int]:
    identical = n = 0
    for c in cells:
        identical += c.identity.bytes_identical
        n += c.identity.n
    return identical, n


def _measure(figure: Figure, summary: Summary, m: _Matcher) -> ReproductionRow:
    stat = figure.statistic
    if stat == "acceptance_rate":
        return _absent(figure, ACCEPTANCE_ELSEWHERE)
    if stat == "rate":
        rates = _rates(summary, m.all_arms(figure), figure)
        if not rates:
            return _absent(figure, "no arm of this run plays that role")
        k = sum(r.k for r in rates)
        n = sum(r.n for r in rates)
        pooled = f"pooled over {len(rates)} arm x task cells" if len(rates) > 1 else ""
        return _share(figure, k, n, pooled)
    if stat == "generations":
        total = sum(r.n + r.excluded for r in _rates(summary, m.all_arms(figure), figure))
        if not total:
            return _absent(figure, "no arm of this run matches")
        return _row(figure, float(total), f"{total:,}")
    cells = _contrasts(summary, m, figure)
    if stat in ("identity_share", "changed_share_range"):
        if not cells:
            return _absent(figure, "this run has no contrast between those roles")
        if stat == "identity_share":
            identical, n = _identity(cells)
            return _share(figure, identical, n, _floor_note(summary, cells))
        by_pair: dict[str, list[ContrastResult]] = {}
        for c in cells:
            by_pair.setdefault(_pair_of(c, m), []).append(c)
        changed = [1 - k / n for k, n in (_identity(v) for v in by_pair.values())]
        text = f"[{100 * min(changed):.2f}%, {100 * max(changed):.2f}%]"
        return _row(figure, None, text, note=f"over {len(by_pair)} pair(s) of this run")
    if stat == "max_abs_cohens_h":
        if not cells:
            return _absent(figure, "this run has no contrast between those roles")
        largest = max(abs(c.cohens_h) for c in cells)
        return _row(figure, largest, f"{largest:.3f}", note=f"over {len(cells)} contrasts")
    if stat == "tost_passes":
        gated = [c for c in cells if c.gated]
        if not gated:
            return _absent(figure, "this run has no gated contrast between those roles")
        passes = sum(c.equivalent for c in gated)
        return _row(figure, passes / len(gated), f"{passes}/{len(gated)}")
    return _absent(figure, _NOT_MEASURED.get(stat, "not measured by a single run"))


_NOT_MEASURED = {
    "judge_agreement": "this run's refusal judges are compared in the agreement section",
    "cohens_kappa": "this run's refusal judges are compared in the agreement section",
}


def _floor_note(summary: Summary, cells: list[ContrastResult]) -> str:
    """The same items' identity under each floor arm (no speculation), beside the printed
    identity that the paper read as speculation's effect."""
    wanted = {(c.contrast, c.task) for c in cells}
    floor: dict[str, list[int]] = {}
    for row in summary.floor:
        if (row.contrast, row.task) not in wanted:
            continue
        for arm in row.floor_arms:
            counts = floor.setdefault(arm.arm, [0, 0])
            counts[0] += row.n - arm.changed
            counts[1] += row.n
    if not floor:
        return ""
    shown = ", ".join(f"{arm} {k:,}/{n:,}" for arm, (k, n) in sorted(floor.items()))
    return f"identical on the same items without speculation (the floor): {shown}"


def _pair_of(contrast: ContrastResult, m: _Matcher) -> str:
    return next(a.pair for a in m.arms if a.arm == contrast.b)


def reproduction(
    config: ExperimentConfig, summary: Summary, figures: FigureFile
) -> Reproduction | None:
    """A row per figure of the config's paper experiment; None without a `paper` link."""
    link = config.paper
    if link is None:
        return None
    matcher = _Matcher(config, link)
    rows = [
        _measure(figure, summary, matcher)
        for figure in figures.figures
        if figure.experiment == link.experiment
    ]
    return Reproduction(experiment=link.experiment, stand_in=link.stand_in, rows=rows)


def reproduction_section(summary: Summary) -> list[str]:
    table = summary.reproduction
    if table is None:
        return []
    lines = [
        "",
        f"## Reproduction of the paper's figures ({table.experiment})",
        "",
        "Each figure the paper or its technical report printed for this experiment "
        "(bundle/paper/figures.yaml) beside the same statistic in this run, with this run's "
        "Wilson 95% interval where it has one and whether the printed value lies inside it.",
    ]
    if table.stand_in:
        lines += [
            "",
            "**The models of this run stand in for the paper's** (the bundled tiny models): "
            '"this run" is the tiny models\' value, which checks the pipeline, not the '
            "paper's numbers. The GPU profile, with the paper's models, is the run that "
            "reproduces.",
        ]
    lines += [
        "",
        "| figure | paper | this run | difference | this run's 95% CI | inside? | note |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for row in table.rows:
        interval = (
            f"[{row.ci_low:.3f}, {row.ci_high:.3f}]"
            if row.ci_low is not None and row.ci_high is not None
            else ""
        )
        inside = {True: "yes", False: "no", None: ""}[row.inside]
        counted = row.statistic in ("generations", "tost_passes")
        difference = ""
        if row.difference is not None:
            difference = f"{row.difference:+,.0f}" if row.statistic == "generations" else ""
            difference = difference or f"{row.difference:+.3f}"
        shown = row.this_run_text or "—"
        if row.this_run is not None and "/" in shown and not counted:
            shown = f"{row.this_run:.3f} ({shown})"
        cells = [row.figure, row.printed, shown, difference, interval, inside, row.note]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return lines
