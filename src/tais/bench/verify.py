"""`tais bench`'s verify measurement: a synthetic bundle of any size, and the floor to hold
verify to (reading, hashing and parsing the same files).

The bundle is a published one (the template) with its items repeated under new ids until the
records reach the size asked for; summary, battery count and report files are then derived by
the library's own code, so verify passes it and does all of its usual work.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import yaml
from pydantic import BaseModel

from tais.analysis.acceptance import acceptance_report
from tais.analysis.analyse import analyse
from tais.analysis.performance import render_performance
from tais.config.config import load_config
from tais.config.places import PublishPlaces
from tais.errors import DataError
from tais.io import atomic_write_text, read_jsonl, sha256_file, write_jsonl
from tais.publish.manifest import RELEASED, covered_files, write_manifest
from tais.records import (
    ArmPerformance,
    BatteryCounts,
    Divergence,
    ItemCounters,
    PublishedArm,
    SampleRecord,
    TaskCount,
    acceptance_rate,
    total_counters,
)
from tais.report.files import report_files, volatile_files
from tais.verify.verify import verify


def synthetic_bundle(template: Path, records: int, root: Path) -> Path:
    """root/validation/<template's name>/ with about `records` records (whole items: every
    arm keeps each item), and root/manifest.yaml listing it."""
    name = template.name
    if not (template / "records.jsonl").is_file():
        raise DataError(f"{template}: not a published run (no records.jsonl)")
    shutil.rmtree(root, ignore_errors=True)
    run_dir = root / RELEASED / name
    shutil.copytree(template, run_dir)
    places = PublishPlaces(run_dir)
    base = read_jsonl(places.records, SampleRecord)
    base_div = read_jsonl(places.divergences, Divergence)
    base_counters = read_jsonl(places.item_counters, ItemCounters)
    if not base:
        raise DataError(f"{places.records}: no records to repeat")
    copies = max(1, round(records / len(base)))
    grown: list[SampleRecord] = []
    grown_div: list[Divergence] = []
    grown_counters: list[ItemCounters] = []
    for copy in range(copies):
        grown += [r.model_copy(update={"item_id": f"{r.item_id}#{copy}"}) for r in base]
        grown_div += [d.model_copy(update={"item_id": f"{d.item_id}#{copy}"}) for d in base_div]
        grown_counters += [
            c.model_copy(update={"item_id": f"{c.item_id}#{copy}"}) for c in base_counters
        ]
    grown.sort(key=lambda r: (r.arm, r.item_id))
    grown_div.sort(key=lambda d: (d.contrast, d.item_id))
    grown_counters.sort(key=lambda c: (c.arm, c.item_id))
    config = load_config(places.config)
    arms = [_grown_arm(a, copies) for a in read_jsonl(places.arms, PublishedArm)]
    performance = [
        _grown_performance(p, copies) for p in read_jsonl(places.performance, ArmPerformance)
    ]
    summary = analyse(config, grown, grown_div, arms)
    write_jsonl(places.records, grown)
    write_jsonl(places.divergences, grown_div)
    write_jsonl(places.arms, arms)
    write_jsonl(places.performance, performance)
    write_jsonl(places.item_counters, grown_counters)
    acceptance = acceptance_report(performance, grown_counters, grown)
    atomic_write_text(places.acceptance, acceptance.model_dump_json(indent=2) + "\n")
    report = render_performance(config.experiment, performance, acceptance)
    atomic_write_text(places.performance_report, report)
    per_task: dict[str, set[str]] = {}
    for rec in grown:
        per_task.setdefault(rec.task, set()).add(rec.item_id)
    counts = BatteryCounts(
        items=sum(len(ids) for ids in per_task.values()),
        tasks={task: TaskCount(items=len(ids)) for task, ids in sorted(per_task.items())},
    )
    atomic_write_text(places.battery, json.dumps(counts.model_dump(mode="json"), indent=2) + "\n")
    atomic_write_text(places.summary, json.dumps(summary.model_dump(mode="json"), indent=2) + "\n")
    files = {
        **report_files(config, summary, grown_div),
        **volatile_files(acceptance),
    }
    for rel, text in files.items():
        atomic_write_text(run_dir / rel, text)
    write_manifest(root)
    return run_dir


def _grown_arm(arm: PublishedArm, copies: int) -> PublishedArm:
    return arm.model_copy(
        update={"n_items": arm.n_items * copies, "n_tokens": arm.n_tokens * copies}
    )


def _grown_performance(p: ArmPerformance, copies: int) -> ArmPerformance:
    """The arm's chunks repeated once per copy of its items, totals summed as a run sums them."""
    chunks = [
        c.model_copy(update={"chunk": copy * len(p.chunks) + c.chunk})
        for copy in range(copies)
        for c in p.chunks
    ]
    wall_s = sum(c.wall_s for c in chunks)
    n_tokens = sum(c.n_tokens for c in chunks)
    counters = total_counters(chunks)
    return p.model_copy(
        update={
            "chunks": chunks,
            "wall_s": wall_s,
            "n_tokens": n_tokens,
            "tokens_per_s": n_tokens / wall_s if wall_s > 0 else 0.0,
            "counters": counters,
            "acceptance_rate": acceptance_rate(counters),
        }
    )


def read_hash_parse(root: Path) -> None:
    """The floor: every released file hashed, each JSON-lines file parsed into its record
    type, each JSON and YAML file parsed."""
    yaml.safe_load((root / "manifest.yaml").read_text(encoding="utf-8"))
    models: dict[str, type[BaseModel]] = {
        "records.jsonl": SampleRecord,
        "divergences.jsonl": Divergence,
        "arms.jsonl": PublishedArm,
    }
    for path in covered_files(root, RELEASED):
        sha256_file(path)
        if path.name in models and path.parent.name != "volatile":
            read_jsonl(path, models[path.name])
        elif path.name == "arms.jsonl":
            read_jsonl(path, ArmPerformance)
        elif path.name == "item_counters.jsonl":
            read_jsonl(path, ItemCounters)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".yaml":
            load_config(path)


def time_verify(root: Path, repeats: int) -> tuple[list[float], list[float]]:
    """(verify, read+hash+parse) seconds per repeat, alternating which goes first."""
    verify_s: list[float] = []
    floor_s: list[float] = []

    def timed(step: str) -> None:
        started = time.perf_counter()
        if step == "verify":
            verify(root)
            verify_s.append(time.perf_counter() - started)
        else:
            read_hash_parse(root)
            floor_s.append(time.perf_counter() - started)

    for repeat in range(repeats):
        order = ("verify", "floor") if repeat % 2 == 0 else ("floor", "verify")
        for step in order:
            timed(step)
    return verify_s, floor_s
