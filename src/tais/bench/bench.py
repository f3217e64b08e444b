"""`tais bench`: the harness held to side-by-side floors, as ratios measured in one run.

- generation: per arm type (target-only, draft model, n-gram), the harness's chunk loop
  against raw `vllm.LLM.chat` on all items at once, in one engine, alternating;
- verify: against reading, hashing and parsing the same files, on synthetic bundles of
  several sizes (is it linear?);
- judge work: requests the judge stage sends against distinct (prompt, output) pairs.

Timings move between runs; the ratios are the claim. The JSON goes outside validation/.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tais.battery.battery import build_battery
from tais.bench.engine import BenchJob, result_path
from tais.bench.verify import synthetic_bundle, time_verify
from tais.config.config import Arm, ExperimentConfig, JudgeSpec
from tais.config.places import RunPlaces
from tais.config.profiles import load_experiment
from tais.errors import ConfigError, EngineError
from tais.generate.fit import fit_battery
from tais.generate.generate import load_generations
from tais.generate.worker_pool import ERROR_PREFIX, worker_env
from tais.io import atomic_write_text, sha256_text, write_jsonl
from tais.judge.judge import judge_outputs
from tais.judge.judges import get_judge
from tais.publish.publish import _cpu_model
from tais.records import Generation, Item, Record

PAPER_RECORDS = 60849


class GenerationRow(Record):
    arm: str
    kind: str
    items: int
    raw_s: list[float]
    harness_s: list[float]
    harness_generate_s: list[float]
    # Harness throughput over raw throughput: median raw time / median harness time.
    ratio: float
    ratio_generate_only: float


class VerifyRow(Record):
    records: int
    verify_s: list[float]
    read_hash_parse_s: list[float]
    # Median verify time over median read+hash+parse time.
    ratio: float


class JudgeRow(Record):
    judge: str
    outputs: int
    distinct_pairs: int
    requests: int
    ratio: float


class BenchReport(Record):
    machine: str
    cores: int
    python: str
    config: str
    profile: str | None = None
    repeats: int
    generation: list[GenerationRow]
    verify: list[VerifyRow]
    judging: list[JudgeRow]


def _kind(arm: Arm) -> str:
    return "target-only" if arm.speculative is None else arm.speculative.method


def arms_by_kind(config: ExperimentConfig) -> list[Arm]:
    """The first arm of each kind: target-only, then each speculative method."""
    seen: dict[str, Arm] = {}
    for arm in config.arms:
        if arm.endpoint is None:
            seen.setdefault(_kind(arm), arm)
    if not seen:
        raise ConfigError(f"{config.experiment}: no arm runs on the offline engine to bench")
    return list(seen.values())


def bench_arm(
    config: ExperimentConfig, arm: Arm, battery: Path, repeats: int, work: Path
) -> tuple[GenerationRow, Path]:
    job_path = work / f"{arm.name}.job.json"
    job = BenchJob(
        arm=arm,
        engine=config.engine,
        battery=str(battery),
        repeats=repeats,
        work_dir=str(work / arm.name),
    )
    atomic_write_text(job_path, job.model_dump_json())
    log = work / f"{arm.name}.log"
    with log.open("w", encoding="utf-8") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "tais.bench.engine", str(job_path)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=worker_env(),
        )
    if done.returncode != 0:
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
        said = [line[len(ERROR_PREFIX) :] for line in text if line.startswith(ERROR_PREFIX)]
        raise EngineError(f"bench arm {arm.name}: " + (said[-1] if said else "\n".join(text[-15:])))
    result = json.loads(result_path(job).read_text(encoding="utf-8"))
    raw = statistics.median(result["raw_s"])
    row = GenerationRow(
        arm=arm.name,
        kind=_kind(arm),
        items=sum(1 for _ in battery.open(encoding="utf-8")),
        raw_s=result["raw_s"],
        harness_s=result["harness_s"],
        harness_generate_s=result["harness_generate_s"],
        ratio=raw / statistics.median(result["harness_s"]),
        ratio_generate_only=raw / statistics.median(result["harness_generate_s"]),
    )
    return row, Path(result["last_run"])


def bench_judging(
    specs: list[JudgeSpec], items: list[Item], generations: list[Generation], work: Path
) -> list[JudgeRow]:
    """Each judge on an empty cache: requests sent against distinct (prompt, output) pairs."""
    places = RunPlaces(work / "judging")
    judged = judge_outputs(specs, items, generations, places)
    by_id = {item.item_id: item for item in items}
    rows = []
    for spec in specs:
        kinds = get_judge(spec.name, spec.options).kinds
        pairs = {
            (g.item_id, sha256_text(g.text)) for g in generations if by_id[g.item_id].kind in kinds
        }
        stats = judged.stats[spec.name]
        rows.append(
            JudgeRow(
                judge=spec.name,
                outputs=stats.outputs,
                distinct_pairs=len(pairs),
                requests=stats.calls,
                ratio=stats.calls / len(pairs) if pairs else 1.0,
            )
        )
    return rows


def run_bench(
    config_path: Path,
    template: Path,
    repeats: int = 3,
    records: int = PAPER_RECORDS,
    fractions: tuple[float, ...] = (0.25, 0.5, 1.0),
    engine: bool = True,
    profile: str | None = None,
) -> BenchReport:
    config = load_experiment(config_path, profile, None).config
    generation: list[GenerationRow] = []
    judging: list[JudgeRow] = []
    with tempfile.TemporaryDirectory(prefix="tais-bench-") as tmp:
        work = Path(tmp)
        if engine:
            items = fit_battery(config, build_battery(config)).items
            battery = work / "battery.jsonl"
            write_jsonl(battery, items)
            generations: list[Generation] = []
            for arm in arms_by_kind(config):
                row, last = bench_arm(config, arm, battery, repeats, work)
                generation.append(row)
                generations += load_generations(RunPlaces(last), arm.name)
            judging = bench_judging(config.judge_specs(), items, generations, work)
        verify_rows = []
        for fraction in fractions:
            wanted = max(1, round(records * fraction))
            root = work / f"bundle-{wanted}"
            run_dir = synthetic_bundle(template, wanted, root)
            n = sum(1 for _ in (run_dir / "records.jsonl").open(encoding="utf-8"))
            verify_s, floor_s = time_verify(root, repeats)
            verify_rows.append(
                VerifyRow(
                    records=n,
                    verify_s=verify_s,
                    read_hash_parse_s=floor_s,
                    ratio=statistics.median(verify_s) / statistics.median(floor_s),
                )
            )
    return BenchReport(
        machine=_cpu_model(),
        cores=os.cpu_count() or 0,
        python=platform.python_version(),
        config=str(config_path),
        profile=profile,
        repeats=repeats,
        generation=generation,
        verify=verify_rows,
        judging=judging,
    )
