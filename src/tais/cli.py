"""Command line: each command parses its options and calls one library function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tais import __version__
from tais.analysis.summary import Summary
from tais.errors import TaisError, VerifyError
from tais.generate.batch_invariance import SUPPORTED as BATCH_INVARIANT_GPUS

if TYPE_CHECKING:
    from tais.bench.bench import BenchReport
    from tais.plan import Plan

# `tais plan`'s default speeds: batched offline generation of a 1-3B model in float16 on one
# GPU, and of the bundled tiny models on a 2-core CPU. Assumptions, stated with the estimate.
GPU_TOKENS_PER_S = 1000.0
CPU_TOKENS_PER_S = 200.0

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

    def arm_reused(self, arm: str, origin: str) -> None:
        console.print(f"arm {arm}: same arm as {escape(origin)}, copied from the shared arm store")


def _fail(exc: TaisError) -> None:
    # Messages quote files and configs, whose text may look like rich markup ("[/x]").
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
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
            escape(c.task),
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


PROFILE = click.option(
    "--profile",
    default=None,
    help="The profile of an experiment file with `profiles` (e.g. gpu or cpu).",
)
LIMIT = click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="At most N items per task (a quick look; the experiment is renamed <name>-limitN).",
)


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@PROFILE
@LIMIT
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
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default=None,
    help="Where arms run: local (one at a time here) or ray (side by side on a Ray cluster) "
    "[default: the config's engine.executor, else local].",
)
@click.option(
    "--address",
    default=None,
    help="The Ray cluster to run on (e.g. 10.0.0.1:6379, as `ray start --head` prints) "
    "[default: Ray's own choice: RAY_ADDRESS, else the cluster last started on this "
    "machine, else a new one here].",
)
def run(
    config: Path,
    profile: str | None,
    limit: int | None,
    runs_dir: Path,
    root: Path,
    allow_dirty: bool,
    executor: Literal["local", "ray"] | None,
    address: str | None,
) -> None:
    """Run the whole screen for the experiment CONFIG (YAML).

    Resumable: after an interruption, run the same command again; finished work is reused.
    An arm that another experiment in RUNS_DIR already generated (same settings, model bytes
    and items) is copied from the shared arm store instead of generated again.
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
                profile=profile,
                limit=limit,
                executor=executor,
                address=address,
            )
    except TaisError as exc:
        _fail(exc)
        return
    stdout.print(_verdict_table(result.summary))
    for note in result.skipped:
        console.print(f"[yellow]{escape(note)}[/]", highlight=False)
    identity = result.summary.identity_verdict
    if identity is not None:
        colour = {"PASS": "green", "FAIL": "bold red", "INCONCLUSIVE": "yellow"}[identity.verdict]
        console.print(
            f"identity verdict: [{colour}]{identity.verdict}[/] ({identity.n_beyond_floor} of "
            f"{identity.n_contrasts} contrasts changed outputs beyond the numerics floor; "
            "report.md says which)",
            highlight=False,
        )
    for judge, counts in sorted(result.judge_calls.items()):
        console.print(
            f"judge {judge}: {counts['outputs']} outputs, {counts['calls']} new judgements "
            f"({counts['saved_by_cache']} answered from cache)"
        )
    if result.too_long:
        console.print(
            f"left out {sum(result.too_long.values())} item(s) too long for max_model_len: "
            + ", ".join(f"{escape(task)} {n}" for task, n in result.too_long.items())
        )
    console.print(f"artifacts: {escape(str(result.out_dir))}; manifest updated")


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@PROFILE
@LIMIT
def battery(config: Path, profile: str | None, limit: int | None) -> None:
    """List the items per benchmark, task and kind of CONFIG, without loading a model.

    With `engine.too_long: skip`, the targets' tokenizers are loaded (not their weights) to
    count the items each task loses to the context length.
    """
    from tais.battery.battery import battery_table, build_battery
    from tais.config.profiles import load_experiment
    from tais.generate.fit import fit_battery

    try:
        loaded = load_experiment(config, profile, limit).config
        items = build_battery(loaded)
        dropped = fit_battery(loaded, items).dropped
    except TaisError as exc:
        _fail(exc)
        return
    skipping = loaded.engine.too_long == "skip"
    title = f"battery: {len(items) - sum(dropped.values())} items"
    if skipping:
        title += f" (of {len(items)}; {sum(dropped.values())} too long for max_model_len)"
    table = Table(title=title)
    for column in ("benchmark", "task", "kind", "items"):
        table.add_column(column)
    if skipping:
        table.add_column("left out (too long)")
    per_kind: dict[str, int] = {}
    for bench, task, kind, count in battery_table(items):
        row = [escape(bench), escape(task), kind, str(count - dropped.get(task, 0))]
        table.add_row(*row, *([str(dropped.get(task, 0))] if skipping else []))
        per_kind[kind] = per_kind.get(kind, 0) + count - dropped.get(task, 0)
    table.caption = "by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(per_kind.items()))
    stdout.print(table)


def _size(n_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.1f} {unit}"
    return f"{n_bytes:,.0f} B"


def _print_plan(plan: Plan, device: str, gpus: int) -> None:
    bound = "" if plan.exact else " (≤: an upper bound, see below)"
    stdout.print(
        f"[bold]plan: {escape(plan.experiment)}[/]; items counted from {plan.counted_from}"
    )
    arms = Table(title=f"{len(plan.arms)} arms, {plan.generations:,} generations{bound}")
    for column in ("arm", "pair", "group", "phase", "speculation", "items", "GPUs"):
        arms.add_column(column, justify="right" if column in ("items", "GPUs") else "left")
    for a in plan.arms:
        items = f"{a.items:,}" + ("" if a.exact else " ≤")
        cells = (a.arm, a.pair, a.group, a.phase, a.speculation)
        arms.add_row(*(escape(c) for c in cells), items, str(a.gpus))
    stdout.print(arms)
    if set(plan.phases) != {"-"}:
        for what, counts in (("phase", plan.phases), ("group", plan.groups)):
            parts = " + ".join(f"{escape(name)} {n:,}" for name, n in counts.items())
            stdout.print(f"generations by {what}: {parts} = {plan.generations:,}")
    models = Table(title="models")
    for column in ("model", "revision", "where", "size"):
        models.add_column(column)
    for m in plan.models:
        stated = f"≈{m.stated_gb:g} GB (stated in the config)" if m.stated_gb else "unknown"
        if m.bytes_on_disk is not None:
            size = _size(m.bytes_on_disk) + (" on disk" if m.local else " in the hub cache")
        elif m.local:
            size = f"not present; {stated}"
        else:
            size = f"to download: {stated}"
        where = "local folder" if m.local else "Hugging Face hub"
        if m.note:
            where += f"; {m.note}"
        models.add_row(escape(m.model), escape(m.revision or "-"), escape(where), size)
    stdout.print(models)
    stdout.print(
        f"time: at most {plan.tokens_upper:,} generated tokens (every output at max_tokens "
        f"{plan.max_tokens}); at an assumed {plan.tokens_per_s:,.0f} tokens/s that is at most "
        f"{plan.hours_upper:,.2f} {device} hours, plus each arm's engine start-up"
    )
    if device == "GPU":
        wall = plan.wall_hours(gpus)
        widest = max((a.gpus for a in plan.arms), default=0)
        stdout.print(
            f"on {gpus} GPU(s), arms side by side as their GPUs allow (`--executor ray`): "
            + (
                f"at most {wall:,.2f} hours wall time"
                if wall is not None
                else f"cannot run: an arm needs {widest} GPUs on one node"
            )
        )
    stdout.print(
        f"disk: models {_size(plan.model_bytes)}; runs/ at most {_size(plan.raw_bytes_upper)}; "
        f"validation/ about {_size(plan.published_bytes)}"
    )
    if not plan.exact:
        stdout.print(
            "≤: with a limit, how many of a task's drawn items fall in an arm's subset depends "
            "on the draw; set TAIS_DATA_DIR for exact counts"
        )
    stdout.print("counts are before `engine.too_long: skip` drops prompts longer than the context")


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@PROFILE
@LIMIT
@click.option(
    "--tokens-per-s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Generation speed assumed for the time estimate "
    "[default: 1000 for a float16/bfloat16 engine (a GPU), else 200].",
)
@click.option(
    "--gpus",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="GPUs available (on one node, or nodes as wide as the widest arm) for the wall time.",
)
def plan(
    config: Path, profile: str | None, limit: int | None, tokens_per_s: float | None, gpus: int
) -> None:
    """Print what CONFIG would run: arms, items, generations, GPUs, models, time and disk.

    Loads no model and reads no hub: items come from the data mirror (TAIS_DATA_DIR) when
    set, else from the battery's declared sizes.
    """
    from tais.config.profiles import load_experiment
    from tais.plan import make_plan

    try:
        loaded = load_experiment(config, profile, limit)
        # The profile says where it runs; without one, reduced precision suggests a GPU. The
        # `small` profile is bfloat16 on the CPU.
        gpu = loaded.profile == "gpu" or (
            loaded.profile is None and loaded.config.engine.dtype != "float32"
        )
        speed = tokens_per_s or (GPU_TOKENS_PER_S if gpu else CPU_TOKENS_PER_S)
        made = make_plan(loaded, speed)
    except TaisError as exc:
        _fail(exc)
        return
    _print_plan(made, "GPU" if gpu else "CPU", gpus)
    invariant = [a.name for a in loaded.config.arms if a.batch_invariant]
    if invariant:
        stdout.print(
            f"batch-invariant arms (-bi, VLLM_BATCH_INVARIANT=1; {len(invariant)}) run on "
            f"{BATCH_INVARIANT_GPUS}; on any other machine `tais run` skips them and says why"
        )


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
    from tais.verify.verify import verify as verify_all

    try:
        checked = verify_all(root, deep=deep, runs_root=runs_dir)
    except VerifyError as exc:
        for problem in exc.problems:
            console.print(f"[red]MISMATCH[/] {escape(problem)}", highlight=False, soft_wrap=True)
        console.print(f"[bold red]verify failed:[/] {len(exc.problems)} problem(s)")
        sys.exit(1)
    except TaisError as exc:
        _fail(exc)
        return
    runs = escape(", ".join(checked))
    console.print(f"verify passed: manifest and {len(checked)} run(s): {runs}")


@main.command(name="paper-check")
@click.option(
    "--figures",
    type=click.Path(path_type=Path),
    default=Path("bundle/paper/figures.yaml"),
    show_default=True,
    help="The paper's figures with their stated inputs.",
)
def paper_check(figures: Path) -> None:
    """Recompute each of the paper's figures from its own stated inputs.

    Lists every figure with what it follows from, and those that do not follow. A report on
    the paper, not a gate: it exits 0 whatever it finds.
    """
    from tais.paper.check import paper_figure_check

    try:
        result = paper_figure_check(figures)
    except TaisError as exc:
        _fail(exc)
        return
    table = Table(title="the paper's figures, recomputed from their own inputs")
    for column in ("figure", "quantity", "printed", "recomputed", "follows", "from"):
        table.add_column(column)
    marks = {True: "yes", False: "[bold red]NO[/]", None: "-"}
    for c in result.checks:
        cells = (c.figure, c.quantity, c.printed, c.recomputed or "-")
        table.add_row(*map(escape, cells), marks[c.follows], escape(c.basis))
    stdout.print(table)
    recomputed = sum(c.follows is not None for c in result.checks)
    stdout.print(
        f"{len(result.checks)} printed quantities, {recomputed} recomputed from stated inputs, "
        f"{len(result.mismatches)} do not follow"
    )
    for c in result.mismatches:
        stdout.print(
            escape(
                f"- {c.figure} ({c.quantity}): printed {c.printed}, recomputed {c.recomputed}"
                + (f"; {c.note}" if c.note else "")
            ),
            highlight=False,
            soft_wrap=True,
        )


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@PROFILE
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Hugging Face cache to download into [default: the hub's, HF_HUB_CACHE or HF_HOME]; "
    "runs find the models there only if HF_HUB_CACHE names it too.",
)
@click.option(
    "--update",
    is_flag=True,
    help="Resolve every revision again (a branch such as main may have moved), not the "
    "commits the lock already holds.",
)
def models(config: Path, profile: str | None, cache_dir: Path | None, update: bool) -> None:
    """Download the hub models of CONFIG and lock the commit of each in models.lock.yaml.

    The lock sits beside CONFIG; every later run of a config in that folder loads the locked
    commits. Gated models need HF_TOKEN; HF_HUB_OFFLINE=1 resolves from the cache only.
    Downloads resume where an interrupted one stopped. Local model folders are not locked.
    """
    from tais.models.hub import fetch_models

    def announce(model: str, revision: str) -> None:
        console.print(f"model {escape(model)} at {escape(revision)}")

    try:
        result = fetch_models(config, profile, cache_dir, update, announce)
    except TaisError as exc:
        _fail(exc)
        return
    # Plain lines, not a table: a commit and a cache path must never be wrapped or cut.
    for f in result.fetched:
        kept = " (the commit the lock held)" if f.from_lock else ""
        stdout.print(
            escape(f"{f.model}: {f.revision} -> {f.commit}{kept}, in {f.folder}"),
            highlight=False,
            soft_wrap=True,
        )
    for folder, present in result.local.items():
        state = "a local folder: hashed by each run, not locked"
        state += "" if present else "; NOT PRESENT (no config.json)"
        stdout.print(escape(f"{folder}: {state}"), highlight=False, soft_wrap=True)
    if result.fetched:
        console.print(f"model lock written: {escape(str(result.lock))} (commit it)")


@main.command()
@click.option("--root", type=click.Path(path_type=Path), default=Path("."), show_default=True)
def manifest(root: Path) -> None:
    """Rewrite manifest.yaml from the files now in bundle/ and validation/."""
    from tais.publish.manifest import write_manifest

    try:
        written = write_manifest(root)
    except TaisError as exc:
        _fail(exc)
        return
    console.print(f"manifest.yaml: {len(written.files)} files")


def _fractions(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, ...]:
    try:
        found = tuple(float(x) for x in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give fractions such as 0.25,0.5,1") from None
    if not found or any(not 0 < x <= 1 for x in found):
        raise click.BadParameter(f"{value!r}: each fraction must lie in (0, 1]")
    return found


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def _bench_tables(report: BenchReport) -> list[Table]:
    gen = Table(title="generation: harness against raw vllm.LLM.chat (all items at once)")
    for column in (
        "arm",
        "kind",
        "items",
        "raw (s)",
        "harness (s)",
        "its generate calls (s)",
        "throughput ratio",
        "generate-only ratio",
    ):
        gen.add_column(column)
    for g in report.generation:
        gen.add_row(
            g.arm,
            g.kind,
            str(g.items),
            _spread(g.raw_s),
            _spread(g.harness_s),
            _spread(g.harness_generate_s),
            f"{g.ratio:.2f}",
            f"{g.ratio_generate_only:.2f}",
        )
    ver = Table(title="verify against read + hash + parse of the same files")
    for column in ("records", "verify (s)", "read+hash+parse (s)", "ratio"):
        ver.add_column(column)
    for v in report.verify:
        ver.add_row(
            f"{v.records:,}", _spread(v.verify_s), _spread(v.read_hash_parse_s), f"{v.ratio:.2f}"
        )
    judge = Table(title="judge requests against distinct (prompt, output) pairs")
    for column in ("judge", "outputs", "distinct pairs", "requests", "ratio"):
        judge.add_column(column)
    for j in report.judging:
        judge.add_row(
            j.judge, str(j.outputs), str(j.distinct_pairs), str(j.requests), f"{j.ratio:.2f}"
        )
    return [t for t in (gen, ver, judge) if t.row_count]


@main.command()
@click.argument("config", type=click.Path(path_type=Path), default=Path("bundle/configs/demo.yaml"))
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--records",
    type=click.IntRange(min=1),
    default=60849,
    show_default=True,
    help="Records of the largest synthetic bundle verify is timed on (the paper's size).",
)
@click.option(
    "--fractions",
    default="0.25,0.5,1",
    show_default=True,
    callback=_fractions,
    help="Bundle sizes, as fractions of --records.",
)
@click.option(
    "--template",
    type=click.Path(path_type=Path),
    default=Path("validation/demo"),
    show_default=True,
    help="The published run the synthetic bundles repeat.",
)
@click.option("--no-engine", is_flag=True, help="Skip generation and judging (no vLLM).")
@PROFILE
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("runs/bench.json"), show_default=True
)
def bench(
    config: Path,
    profile: str | None,
    repeats: int,
    records: int,
    fractions: tuple[float, ...],
    template: Path,
    no_engine: bool,
    out: Path,
) -> None:
    """Time the harness against raw vLLM, verify against reading the files, and count judge
    requests against distinct outputs; print the ratios and write them to --out."""
    from tais.bench.bench import run_bench
    from tais.io import atomic_write_text

    try:
        report = run_bench(
            config, template, repeats, records, fractions, engine=not no_engine, profile=profile
        )
    except TaisError as exc:
        _fail(exc)
        return
    for table in _bench_tables(report):
        stdout.print(table)
    atomic_write_text(out, report.model_dump_json(indent=2) + "\n")
    console.print(f"written: {out} ({report.machine}, {report.cores} cores)")


if __name__ == "__main__":
    main()
