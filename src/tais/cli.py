"""Command line: each command parses its options and calls one library function."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tais import __version__
from tais.errors import TaisError, VerifyError
from tais.summary import Summary

console = Console(stderr=True)
# Wide enough for the verdict table when output is piped (rich assumes 80 columns then).
stdout = Console(width=max(Console().width, 120))


class RichArmProgress:
    """A progress bar per arm, fed by the generate stage."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, object] = {}

    def arm_started(self, arm: str, total: int, done: int) -> None:
        self._tasks[arm] = self._progress.add_task(f"arm {arm}", total=total, completed=done)

    def arm_advanced(self, arm: str, done: int) -> None:
        self._progress.update(self._tasks[arm], completed=done)  # type: ignore[arg-type]

    def arm_finished(self, arm: str, skipped: bool) -> None:
        if skipped:
            console.print(f"arm {arm}: already complete in runs/, reused")


def _fail(exc: TaisError) -> None:
    console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    sys.exit(1)


def _verdict_table(summary: Summary) -> Table:
    table = Table(title=f"TAIS verdict: {summary.experiment}: {summary.verdict.verdict}")
    for column in (
        "contrast",
        "task",
        "rate A",
        "rate B",
        "90% CI (pp)",
        "h",
        "identical",
        "verdict",
    ):
        table.add_column(column)
    for c in summary.contrasts:
        table.add_row(
            f"{c.a} vs {c.b}",
            c.task,
            f"{100 * c.rate_a:.1f}%",
            f"{100 * c.rate_b:.1f}%",
            f"[{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}]",
            f"{c.cohens_h:+.3f}",
            f"{c.identity.token_identical if c.identity.token_identical is not None else '-'}"
            f"/{c.identity.n}",
            c.verdict,
        )
    return table


@click.group()
@click.version_option(__version__, prog_name="tais")
def main() -> None:
    """TAIS: does speculative decoding change what the target model says at temperature 0?

    Runs a battery of prompts through matched arms (target-only and speculative) on the vLLM
    engine, judges every output, and reports identity, equivalence statistics and a verdict
    as an aggregated-only artifact set under validation/ that `tais verify` re-derives.
    """


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Where raw outputs (with text) are kept; never released.",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project root holding validation/ and manifest.yaml.",
)
@click.option(
    "--allow-dirty",
    is_flag=True,
    help="Publish even with uncommitted changes outside validation/; recorded in "
    "volatile/environment.json.",
)
def run(config: Path, runs_dir: Path, root: Path, allow_dirty: bool) -> None:
    """Run the whole screen for the experiment CONFIG (YAML).

    Resumable: after an interruption, run the same command again; finished work is reused.
    Refuses to start from a git checkout with uncommitted code (see --allow-dirty), so a
    published run always names the commit that produced it.
    """
    from tais.pipeline import run_screen

    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            result = run_screen(
                config,
                RichArmProgress(progress),
                runs_dir=runs_dir,
                root=root,
                allow_dirty=allow_dirty,
            )
    except TaisError as exc:
        _fail(exc)
        return
    stdout.print(_verdict_table(result.summary))
    for judge, counts in sorted(result.judge_calls.items()):
        console.print(
            f"judge {judge}: {counts['outputs']} outputs, {counts['calls']} new judgements "
            f"({counts['saved_by_cache']} answered from cache)"
        )
    if result.too_long:
        console.print(
            f"left out {sum(result.too_long.values())} item(s) too long for max_model_len: "
            + ", ".join(f"{task} {n}" for task, n in result.too_long.items())
        )
    console.print(f"artifacts: {result.out_dir}; manifest updated")


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
def battery(config: Path) -> None:
    """List the items per benchmark, task and kind of CONFIG, without loading a model.

    With `engine.too_long: skip`, the targets' tokenizers are loaded (not their weights) to
    count the items each task loses to the context length.
    """
    from tais.battery import battery_table, build_battery
    from tais.config import load_config
    from tais.fit import fit_battery

    try:
        loaded = load_config(config)
        items = build_battery(loaded)
        dropped = fit_battery(loaded, items).dropped
    except TaisError as exc:
        _fail(exc)
        return
    skipping = loaded.engine.too_long == "skip"
    table = Table(title=f"battery: {len(items) - sum(dropped.values())} items")
    for column in ("benchmark", "task", "kind", "items"):
        table.add_column(column)
    if skipping:
        table.add_column("left out (too long)")
    for bench, task, kind, count in battery_table(items):
        row = [bench, task, kind, str(count - dropped.get(task, 0))]
        table.add_row(*row, *([str(dropped.get(task, 0))] if skipping else []))
    stdout.print(table)


@main.command()
@click.option("--root", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option(
    "--deep",
    is_flag=True,
    help="Also re-hash the raw texts in runs/ and re-run the keyword judge on them.",
)
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Raw outputs for --deep (default: ROOT/runs).",
)
def verify(root: Path, deep: bool, runs_dir: Path | None) -> None:
    """Check manifest hashes and re-derive every published number from the stored records."""
    from tais.verify import verify as verify_all

    try:
        checked = verify_all(root, deep=deep, runs_root=runs_dir)
    except VerifyError as exc:
        for problem in exc.problems:
            console.print(f"[red]MISMATCH[/] {problem}", highlight=False, soft_wrap=True)
        console.print(f"[bold red]verify failed:[/] {len(exc.problems)} problem(s)")
        sys.exit(1)
    except TaisError as exc:
        _fail(exc)
        return
    console.print(f"verify passed: manifest and {len(checked)} run(s): {', '.join(checked)}")


@main.command()
@click.option("--root", type=click.Path(path_type=Path), default=Path("."), show_default=True)
def manifest(root: Path) -> None:
    """Rewrite manifest.yaml from the files now in bundle/ and validation/."""
    from tais.manifest import write_manifest

    written = write_manifest(root)
    console.print(f"manifest.yaml: {len(written.files)} files")


if __name__ == "__main__":
    main()
