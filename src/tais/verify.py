"""Verify: re-hash every artifact and re-derive every published number with the library's code.

Imports neither vllm nor torch, so it runs on a slim install.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tais.analyse import analyse
from tais.config import load_config
from tais.errors import DataError, TaisError, VerifyError
from tais.generate import load_generations
from tais.io import read_jsonl, sha256_text
from tais.judges.base import Judge, JudgeRequest
from tais.judges.keyword import KeywordJudge
from tais.judges.multiple_choice import MultipleChoiceJudge
from tais.judges.paper import PaperJudge
from tais.manifest import check_manifest
from tais.places import PublishPlaces, RunPlaces
from tais.publish import build_divergences, token_ids_sha256
from tais.records import ArmRun, Divergence, Generation, Item, SampleRecord
from tais.report import render_report


def diff_values(stored: Any, derived: Any, where: str) -> list[str]:
    """Each leaf where stored and re-derived values differ: 'where: stored X, re-derived Y'."""
    if isinstance(stored, dict) and isinstance(derived, dict):
        out = []
        for key in sorted(stored.keys() | derived.keys()):
            out += diff_values(stored.get(key), derived.get(key), f"{where}.{key}")
        return out
    if isinstance(stored, list) and isinstance(derived, list) and len(stored) == len(derived):
        out = []
        for i, (s, d) in enumerate(zip(stored, derived, strict=True)):
            out += diff_values(s, d, f"{where}[{i}]")
        return out
    if stored != derived:
        return [f"{where}: stored {json.dumps(stored)}, re-derived {json.dumps(derived)}"]
    return []


def verify_run(run_dir: Path) -> list[str]:
    places = PublishPlaces(run_dir)
    name = run_dir.as_posix()
    try:
        config = load_config(places.config)
        records = read_jsonl(places.records, SampleRecord)
        divergences = read_jsonl(places.divergences, Divergence)
        arm_runs = read_jsonl(places.arms, ArmRun)
        derived = analyse(config, records, divergences, arm_runs)
        stored = json.loads(places.summary.read_text(encoding="utf-8"))
    except (TaisError, OSError, json.JSONDecodeError) as exc:
        return [f"{name}: cannot re-derive: {exc}"]
    problems = diff_values(stored, derived.model_dump(mode="json"), f"{places.summary}")
    report = places.report.read_text(encoding="utf-8") if places.report.exists() else ""
    stored_lines, derived_lines = report.splitlines(), render_report(derived).splitlines()
    for number, (s, d) in enumerate(zip(stored_lines, derived_lines, strict=False), start=1):
        if s != d:
            problems.append(f"{places.report}:{number}: stored {s!r}, re-derived {d!r}")
    if len(stored_lines) != len(derived_lines):
        problems.append(
            f"{places.report}: {len(stored_lines)} lines stored, {len(derived_lines)} re-derived"
        )
    return problems


def deep_check(run_dir: Path, runs_root: Path) -> list[str]:
    """Against the raw outputs in runs/: hashes, option log-probabilities, the labels of the
    judges that need no model (keyword, multiple_choice, paper), and divergences."""
    places = PublishPlaces(run_dir)
    config = load_config(places.config)
    raw = RunPlaces.for_experiment(runs_root, config.experiment)
    if not raw.root.exists():
        return [f"{raw.root}: no raw outputs to check against (--deep needs runs/)"]
    items = {i.item_id: i for i in read_jsonl(raw.battery, Item)}
    generations: list[Generation] = []
    for arm in config.arms:
        generations += load_generations(raw, arm.name)
    by_key = {(g.arm, g.item_id): g for g in generations}
    records = read_jsonl(places.records, SampleRecord)
    rejudges: list[Judge] = [KeywordJudge(), MultipleChoiceJudge()]
    if any(PaperJudge.name in rec.labels for rec in records):
        rejudges.append(PaperJudge())  # reads its stop words from bundle/
    problems = []
    for rec in records:
        gen = by_key.get((rec.arm, rec.item_id))
        where = f"{places.records} {rec.arm}/{rec.item_id}"
        if gen is None:
            problems.append(f"{where}: no raw output in {raw.root}")
            continue
        if sha256_text(gen.text) != rec.output_sha256:
            problems.append(f"{where}: output_sha256 does not match the raw text")
        if token_ids_sha256(gen.token_ids) != rec.token_ids_sha256:
            problems.append(f"{where}: token_ids_sha256 does not match the raw token ids")
        if rec.choice_logprobs != gen.choice_logprobs:
            problems.append(f"{where}: choice_logprobs differ from the raw ones")
        request = JudgeRequest(
            item=items[rec.item_id], text=gen.text, choice_logprobs=gen.choice_logprobs
        )
        for judge in rejudges:
            if judge.name in rec.labels:
                fresh = judge.judge([request])[0]
                problems += diff_values(
                    rec.labels[judge.name], fresh, f"{where} labels.{judge.name}"
                )
    stored_div = [d.model_dump(mode="json") for d in read_jsonl(places.divergences, Divergence)]
    fresh_div = [d.model_dump(mode="json") for d in build_divergences(config, generations)]
    if stored_div != fresh_div:
        problems.append(f"{places.divergences}: differs from divergences re-computed from runs/")
    return problems


def verify(root: Path, deep: bool = False, runs_root: Path | None = None) -> list[str]:
    """All problems found; an empty list means every check passed. Raises VerifyError if any."""
    problems = check_manifest(root)
    validation = root / "validation"
    run_dirs = sorted(p for p in validation.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not run_dirs:
        raise DataError(f"{validation}: no published runs to verify")
    checked = []
    for run_dir in run_dirs:
        problems += verify_run(run_dir)
        if deep:
            problems += deep_check(run_dir, runs_root or root / "runs")
        checked.append(run_dir.name)
    if problems:
        raise VerifyError(problems)
    return checked
