"""The report's files as publish writes them and verify re-derives them: report.md with its
figure links, report.html, the figures, and the volatile acceptance figure."""

from __future__ import annotations

from pathlib import Path

from tais.analysis.acceptance import AcceptanceReport
from tais.analysis.summary import Summary
from tais.config.config import ExperimentConfig
from tais.config.places import VOLATILE
from tais.errors import DataError
from tais.records import Divergence
from tais.report.html import render_html
from tais.report.report import render_report
from tais.report.run_figures import (
    ACCEPTANCE,
    FIGURES,
    acceptance_figure,
    figure_links,
    run_figures,
)

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


def _drawing(what: str) -> DataError:
    return DataError(f"cannot draw {what}: matplotlib is not installed (it is in every lock)")


def report_files(
    config: ExperimentConfig, summary: Summary, divergences: list[Divergence]
) -> dict[str, str]:
    """Path relative to the run folder -> text, for every reproducible report file."""
    try:
        drawn = run_figures(config, summary, divergences)
    except ImportError:
        raise _drawing("the figures") from None
    markdown = render_report(summary) + figure_links(drawn)
    files = {REPORT_MD: markdown, REPORT_HTML: render_html(markdown, drawn)}
    files.update({d.path: d.svg for d in drawn})
    return files


def volatile_files(acceptance: AcceptanceReport) -> dict[str, str]:
    """The acceptance figure, drawn from the engine's counters (none if no arm drafted)."""
    try:
        svg = acceptance_figure(acceptance)
    except ImportError:
        raise _drawing(f"{VOLATILE}/{ACCEPTANCE}") from None
    return {} if svg is None else {f"{VOLATILE}/{ACCEPTANCE}": svg}


def check_files(run_dir: Path, derived: dict[str, str], drawn_in: str, source: str) -> list[str]:
    """Each derived file against its stored bytes; each SVG in `drawn_in` nobody derived."""
    problems = []
    for rel, text in sorted(derived.items()):
        path = run_dir / rel
        if not path.is_file():
            problems.append(f"{path}: missing; it is drawn from {source}")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{path}: differs from the one re-drawn from {source}")
    folder = run_dir / drawn_in
    if folder.is_dir():
        for path in sorted(folder.glob("*.svg")):
            if path.relative_to(run_dir).as_posix() not in derived:
                problems.append(f"{path}: no such figure is drawn from {source}")
    return problems


def check_report_files(run_dir: Path, derived: dict[str, str]) -> list[str]:
    """report.html and the figures (report.md is compared line by line elsewhere)."""
    rest = {rel: text for rel, text in derived.items() if rel != REPORT_MD}
    return check_files(run_dir, rest, FIGURES, "summary.json, divergences.jsonl and config.yaml")


def check_volatile_files(
    run_dir: Path, acceptance: AcceptanceReport, drawn: dict[str, str] | None = None
) -> list[str]:
    """The acceptance figure against its stored bytes; `drawn` is it already drawn from
    `acceptance`."""
    try:
        derived = volatile_files(acceptance) if drawn is None else drawn
    except DataError as exc:
        return [str(exc)]
    return check_files(run_dir, derived, VOLATILE, f"{VOLATILE}/acceptance.json")
