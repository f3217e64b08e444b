"""Verify: re-hash every artifact and re-derive every published number with the library's code.

Every problem found in any artifact becomes one line naming the file (and line, record or
field); nothing a bundle holds makes verify stop early or crash. Imports neither vllm nor
torch, so it runs on a slim install.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from tais.analysis.acceptance import acceptance_report, check_chunks, check_item_sums
from tais.analysis.analyse import analyse
from tais.analysis.compare import same_value
from tais.analysis.floor import outputs_differ
from tais.analysis.performance import check_performance, render_performance
from tais.analysis.summary import Summary
from tais.config.config import ExperimentConfig, load_config
from tais.config.places import PublishPlaces, RunPlaces
from tais.errors import DataError, TaisError, VerifyError
from tais.generate.generate import load_generations
from tais.io import gc_paused, read_jsonl, read_text, sha256_text
from tais.judge.judges.base import Judge, JudgeRequest
from tais.judge.judges.keyword import KeywordJudge
from tais.judge.judges.multiple_choice import MultipleChoiceJudge
from tais.judge.judges.paper import PaperJudge
from tais.publish.manifest import RELEASED, check_manifest
from tais.publish.publish import build_divergences, token_ids_sha256
from tais.records import (
    ArmPerformance,
    BatteryCounts,
    Divergence,
    Generation,
    Item,
    ItemCounters,
    PublishedArm,
    SampleRecord,
)
from tais.report.files import (
    REPORT_MD,
    check_report_files,
    check_volatile_files,
    report_files,
)
from tais.verify.ahead import NOTHING, DrawAhead, Drawn

T = TypeVar("T")


def show(value: Any) -> str:
    """A value in full: floats by repr (every digit needed to round-trip), the rest as JSON."""
    if type(value) is float:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def diff_values(stored: Any, derived: Any, where: str) -> list[str]:
    """Each leaf where stored and re-derived values differ: 'where: stored X, re-derived Y'."""
    if isinstance(stored, dict) and isinstance(derived, dict):
        out = []
        for key in sorted(stored.keys() | derived.keys(), key=str):
            if key not in stored:
                out.append(f"{where}.{key}: missing, re-derived {show(derived[key])}")
            elif key not in derived:
                out.append(f"{where}.{key}: stored {show(stored[key])}, not re-derived")
            else:
                out += diff_values(stored[key], derived[key], f"{where}.{key}")
        return out
    if isinstance(stored, list) and isinstance(derived, list):
        if len(stored) != len(derived):
            return [f"{where}: {len(stored)} entries stored, {len(derived)} re-derived"]
        out = []
        for i, (s, d) in enumerate(zip(stored, derived, strict=True)):
            out += diff_values(s, d, f"{where}[{i}]")
        return out
    if not same_value(stored, derived):
        return [f"{where}: stored {show(stored)}, re-derived {show(derived)}"]
    return []


def diff_lines(stored: str, derived: str, path: Path) -> list[str]:
    """report.md line by line: its numbers are formatted text, compared exactly."""
    stored_lines, derived_lines = stored.splitlines(), derived.splitlines()
    problems = [
        f"{path}:{number}: stored {s!r}, re-derived {d!r}"
        for number, (s, d) in enumerate(zip(stored_lines, derived_lines, strict=False), start=1)
        if s != d
    ]
    if len(stored_lines) != len(derived_lines):
        stored_n, derived_n = len(stored_lines), len(derived_lines)
        problems.append(f"{path}: {stored_n} lines stored, {derived_n} re-derived")
    return problems


def read_summary(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(path))
    except (ValueError, RecursionError) as exc:
        raise DataError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: not a JSON object")
    return data


def check_divergences(
    config: ExperimentConfig,
    records: list[SampleRecord],
    divergences: list[Divergence],
    path: Path,
) -> list[str]:
    """Each divergence names a contrast of the config and an item whose two records' outputs
    differ (token ids, or text bytes where there are none), once; each such item of each
    contrast has one."""
    by_arm: dict[str, dict[str, SampleRecord]] = {}
    for r in records:
        by_arm.setdefault(r.arm, {})[r.item_id] = r
    contrasts = {c.name: c for c in config.contrasts}
    problems = []
    listed: set[tuple[str, str]] = set()
    for d in divergences:
        where = f"{path}: contrast {d.contrast} item {d.item_id}"
        contrast = contrasts.get(d.contrast)
        if contrast is None:
            problems.append(f"{where}: config.yaml has no such contrast")
            continue
        if (d.contrast, d.item_id) in listed:
            problems.append(f"{where}: listed twice")
            continue
        listed.add((d.contrast, d.item_id))
        a = by_arm.get(contrast.a, {}).get(d.item_id)
        b = by_arm.get(contrast.b, {}).get(d.item_id)
        if a is None or b is None:
            problems.append(f"{where}: records.jsonl lacks the item for one of the arms")
        elif not outputs_differ(a, b):
            problems.append(f"{where}: the two records' token ids are identical")
    for contrast in config.contrasts:
        b_side = by_arm.get(contrast.b, {})
        # Unlisted items are sorted once found: sorting every record per contrast costs more
        # than the rest of this check.
        unlisted = sorted(
            item_id
            for item_id, a in by_arm.get(contrast.a, {}).items()
            if (contrast.name, item_id) not in listed
            and item_id in b_side
            and outputs_differ(a, b_side[item_id])
        )
        problems += [
            f"{path}: no line for contrast {contrast.name} item {item_id}, "
            "whose two records' token ids differ"
            for item_id in unlisted
        ]
    return problems


def check_arms(config: ExperimentConfig, arm_runs: list[PublishedArm], path: Path) -> list[str]:
    """Each arm of the config has one line, with the config's pair and speculative setup."""
    problems = []
    seen: set[str] = set()
    arms = {arm.name: arm for arm in config.arms}
    for run in arm_runs:
        where = f"{path}: arm {run.arm}"
        arm = arms.get(run.arm)
        if arm is None:
            problems.append(f"{where}: config.yaml has no such arm")
            continue
        if run.arm in seen:
            problems.append(f"{where}: listed twice")
            continue
        seen.add(run.arm)
        if run.pair != arm.pair:
            problems.append(f"{where}: pair {run.pair!r}, config.yaml says {arm.pair!r}")
        spec = arm.speculative.model_dump(mode="json") if arm.speculative else None
        if run.engine.get("speculative") != spec:
            problems.append(f"{where}: engine.speculative differs from config.yaml")
    problems += [f"{path}: no line for arm {name}" for name in arms if name not in seen]
    return problems


def _derive(
    config: ExperimentConfig,
    records: list[SampleRecord],
    divergences: list[Divergence],
    arm_runs: list[PublishedArm],
    places: PublishPlaces,
) -> Summary:
    try:
        return analyse(config, records, divergences, arm_runs)
    except TaisError as exc:
        raise DataError(f"{places.root}: cannot re-derive the summary: {exc}") from None
    # Judge labels are free-form JSON per judge; a label missing or of the wrong type in the
    # released records surfaces as one of these while re-deriving.
    except (AttributeError, LookupError, TypeError, ValueError, ArithmeticError) as exc:
        raise DataError(
            f"{places.records}: the records' labels do not fit the analysis: "
            f"{type(exc).__name__}: {exc}"
        ) from None


def verify_run(run_dir: Path, ahead: DrawAhead | None = None) -> list[str]:
    """Every problem of one published run. `ahead`, if given, has drawn its report files from
    the stored summary and acceptance report; they stand in for drawing only where the
    re-derived ones are exactly those."""
    places = PublishPlaces(run_dir)
    problems: list[str] = []

    def attempt(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except TaisError as exc:
            problems.append(str(exc))
            return None

    config = attempt(lambda: load_config(places.config))
    records = attempt(lambda: read_jsonl(places.records, SampleRecord))
    divergences = attempt(lambda: read_jsonl(places.divergences, Divergence))
    arm_runs = attempt(lambda: read_jsonl(places.arms, PublishedArm))
    stored = attempt(lambda: read_summary(places.summary))
    report = attempt(lambda: read_text(places.report))
    if config is None or records is None or divergences is None or arm_runs is None:
        return problems
    if config.experiment != run_dir.name:
        problems.append(
            f"{places.config}: experiment {config.experiment!r} published as {run_dir.name!r}"
        )
    mismatched = check_arms(config, arm_runs, places.arms) + check_divergences(
        config, records, divergences, places.divergences
    )
    if mismatched:
        return problems + mismatched
    derived = attempt(lambda: _derive(config, records, divergences, arm_runs, places))
    if derived is None:
        return problems
    if stored is not None:
        problems += diff_values(stored, derived.model_dump(mode="json"), str(places.summary))
    # Asked for only when first needed, so the drawing ahead has as long as possible.
    early: Callable[[], Drawn] = functools.cache(
        lambda: ahead.get(run_dir) if ahead is not None else NOTHING
    )

    # The report files are checked last (their problems still listed first) so the drawing
    # ahead has the longest to finish.
    rest = check_battery_counts(places, records)
    rest += check_volatile(places, config.experiment, arm_runs, records, early)
    drawn = early().report_for(derived)
    if drawn is None:
        drawn = attempt(lambda: report_files(config, derived, divergences))
    if report is not None and drawn is not None:
        problems += diff_lines(report, drawn[REPORT_MD], places.report)
    if drawn is not None:
        problems += check_report_files(run_dir, drawn)
    return problems + rest


def check_battery_counts(places: PublishPlaces, records: list[SampleRecord]) -> list[str]:
    """battery.json against the records: each task screened exactly the items it says."""
    try:
        counts = BatteryCounts.model_validate_json(read_text(places.battery))
    except TaisError as exc:
        return [str(exc)]
    except ValidationError as exc:
        return [f"{places.battery}: not a battery count: {exc.errors()[0]['msg']}"]
    per_task: dict[str, set[str]] = {}
    for rec in records:
        ids = per_task.get(rec.task)
        if ids is None:
            ids = per_task[rec.task] = set()
        ids.add(rec.item_id)
    found = {task: len(ids) for task, ids in per_task.items()}
    stated = {task: c.items for task, c in counts.tasks.items() if c.items}
    problems = []
    if found != stated:
        problems.append(f"{places.battery}: items per task {stated}, records hold {found}")
    if counts.items != sum(found.values()):
        problems.append(
            f"{places.battery}: items {counts.items}, records hold {sum(found.values())}"
        )
    return problems


def check_volatile(
    places: PublishPlaces,
    experiment: str,
    arms: list[PublishedArm],
    records: list[SampleRecord],
    early: Callable[[], Drawn] = lambda: NOTHING,
) -> list[str]:
    """The measurements: one per arm, consistent with arms.jsonl and its chunks with the
    records; the outputs' counters adding up to their arm's; acceptance.json from them and
    performance.md from both; environment.json a JSON object."""
    problems: list[str] = []
    try:
        performance = read_jsonl(places.performance, ArmPerformance)
        counters = read_jsonl(places.item_counters, ItemCounters)
        stored = read_text(places.performance_report)
        stored_acceptance = read_summary(places.acceptance)
        read_summary(places.environment)
    except TaisError as exc:
        return [str(exc)]
    problems += check_performance(str(places.performance), arms, performance)
    problems += check_chunks(str(places.performance), performance, records)
    problems += check_item_sums(str(places.item_counters), performance, counters)
    try:
        acceptance = acceptance_report(performance, counters, records)
    except TaisError as exc:
        return [*problems, f"{places.item_counters}: {exc}"]
    derived_acceptance = acceptance.model_dump(mode="json")
    problems += diff_values(stored_acceptance, derived_acceptance, str(places.acceptance))
    derived = render_performance(experiment, performance, acceptance)
    problems += check_volatile_files(places.root, acceptance, early().volatile_for(acceptance))
    return problems + diff_lines(stored, derived, places.performance_report)


def deep_check(run_dir: Path, runs_root: Path) -> list[str]:
    """Against the raw outputs in runs/: hashes, option log-probabilities, the labels of the
    judges that need no model (keyword, multiple_choice, paper), and divergences."""
    places = PublishPlaces(run_dir)
    try:
        config = load_config(places.config)
        raw = RunPlaces.for_experiment(runs_root, config.experiment)
        if not raw.root.exists():
            return [f"{raw.root}: no raw outputs to check against (--deep needs runs/)"]
        items = {i.item_id: i for i in read_jsonl(raw.battery, Item)}
        generations: list[Generation] = []
        for arm in config.arms:
            generations += load_generations(raw, arm.name)
        records = read_jsonl(places.records, SampleRecord)
        stored_divergences = read_jsonl(places.divergences, Divergence)
    except TaisError as exc:
        return [f"{run_dir}: cannot check against runs/: {exc}"]
    by_key = {(g.arm, g.item_id): g for g in generations}
    records = read_jsonl(places.records, SampleRecord)
    rejudges: list[Judge] = [KeywordJudge(), MultipleChoiceJudge()]
    if any(PaperJudge.name in rec.labels for rec in records):
        rejudges.append(PaperJudge())  # reads its stop words from bundle/
    problems = []
    for rec in records:
        gen = by_key.get((rec.arm, rec.item_id))
        item = items.get(rec.item_id)
        where = f"{places.records} {rec.arm}/{rec.item_id}"
        if gen is None or item is None:
            problems.append(f"{where}: no raw output or battery item in {raw.root}")
            continue
        if sha256_text(gen.text) != rec.output_sha256:
            problems.append(f"{where}: output_sha256 does not match the raw text")
        if token_ids_sha256(gen.token_ids) != rec.token_ids_sha256:
            problems.append(f"{where}: token_ids_sha256 does not match the raw token ids")
        if rec.choice_logprobs != gen.choice_logprobs:
            problems.append(f"{where}: choice_logprobs differ from the raw ones")
        request = JudgeRequest(item=item, text=gen.text, choice_logprobs=gen.choice_logprobs)
        for judge in rejudges:
            if judge.name in rec.labels:
                try:
                    fresh = judge.judge([request])[0]
                except TaisError as exc:
                    problems.append(f"{where} labels.{judge.name}: cannot re-judge: {exc}")
                    continue
                problems += diff_values(
                    rec.labels[judge.name], fresh, f"{where} labels.{judge.name}"
                )
    stored_div = [d.model_dump(mode="json") for d in stored_divergences]
    fresh_div = [d.model_dump(mode="json") for d in build_divergences(config, generations)]
    if stored_div != fresh_div:
        problems.append(f"{places.divergences}: differs from divergences re-computed from runs/")
    return problems


def verify(root: Path, deep: bool = False, runs_root: Path | None = None) -> list[str]:
    """The names of the runs checked. Raises VerifyError listing every problem if any."""
    if not root.is_dir():
        raise VerifyError([f"{root}: no such folder"])
    validation = root / RELEASED
    problems: list[str] = []
    run_dirs = []
    if not validation.is_dir():
        problems.append(f"{validation}: no such folder, so nothing published to verify")
    else:
        # Hidden folders are no runs; check_manifest reports each.
        run_dirs = sorted(
            p for p in validation.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        if not run_dirs:
            problems.append(f"{validation}: no published runs to verify")
    checked = []
    # Forked first, so it draws while the manifest's files are hashed, from a small parent
    # (quick to fork) with the collector on.
    with DrawAhead(run_dirs) as ahead:
        problems = check_manifest(root) + problems
        # Re-deriving allocates many small objects while every record is alive: with the
        # collector on, its full collections re-walk them all again and again.
        with gc_paused():
            for run_dir in run_dirs:
                problems += verify_run(run_dir, ahead)
                if deep:
                    problems += deep_check(run_dir, runs_root or root / "runs")
                checked.append(run_dir.name)
    if problems:
        raise VerifyError(problems)
    return checked
