"""`tais plan`: what a run of an experiment would do, without loading a model or reading the hub.

Items come from the data mirror when every benchmark of the battery has a local folder
(`data_dir`, TAIS_DATA_DIR or a JSONL `path`): exact counts. Otherwise from the sizes the
benchmark declares (the paper's battery is of fixed size); with a `limit`, the share of a
limited task that falls in a subset is then unknown, so such a count is an upper bound and
marked so. Either way the counts are before `engine.too_long: skip` (which needs the
targets' tokenizers).

Time and disk are upper bounds: every output is taken to run to `max_tokens`. The wall time on
N GPUs runs arms side by side as the `ray` executor does, each holding its tensor-parallel
size in GPUs, longest first: a greedy schedule, close to but not always the shortest.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tais.battery.battery import arm_items, build_battery
from tais.battery.benchmarks.registry import BUILTINS, DATA_DIR_ENV
from tais.config.config import Arm, BatterySource, ExperimentConfig, arm_tensor_parallel
from tais.config.model_lock import is_hub_id
from tais.config.profiles import Loaded
from tais.errors import ConfigError
from tais.models.hashes import model_files

# Bytes per generated token in runs/ (the text and the token id as JSON), per record in
# runs/ and per published record (ids, hashes, labels): measured on the bundled runs, rounded up.
RAW_BYTES_PER_TOKEN = 12
RAW_BYTES_PER_GENERATION = 400
PUBLISHED_BYTES_PER_GENERATION = 800


@dataclass(frozen=True)
class ArmPlan:
    arm: str
    pair: str
    group: str
    phase: str
    speculation: str
    items: int
    exact: bool
    gpus: int = 1  # its engine's tensor_parallel_size; 0 for a server the user runs


@dataclass(frozen=True)
class ModelPlan:
    model: str
    revision: str | None
    local: bool
    bytes_on_disk: int | None  # a local folder, or a hub model already in the local cache
    stated_gb: float | None
    note: str = ""


@dataclass(frozen=True)
class Plan:
    experiment: str
    counted_from: str
    arms: list[ArmPlan]
    models: list[ModelPlan]
    max_tokens: int
    tokens_per_s: float
    phases: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)

    @property
    def generations(self) -> int:
        return sum(a.items for a in self.arms)

    @property
    def exact(self) -> bool:
        return all(a.exact for a in self.arms)

    @property
    def tokens_upper(self) -> int:
        return self.generations * self.max_tokens

    @property
    def hours_upper(self) -> float:
        return self.tokens_upper / self.tokens_per_s / 3600

    def arm_hours(self, arm: ArmPlan) -> float:
        return arm.items * self.max_tokens / self.tokens_per_s / 3600

    def wall_hours(self, gpus: int) -> float | None:
        """Hours until the last arm ends on `gpus` GPUs; None if an arm needs more."""
        if any(a.gpus > gpus for a in self.arms):
            return None
        return makespan([(self.arm_hours(a), a.gpus) for a in self.arms], gpus)

    @property
    def raw_bytes_upper(self) -> int:
        return self.generations * RAW_BYTES_PER_GENERATION + self.tokens_upper * RAW_BYTES_PER_TOKEN

    @property
    def published_bytes(self) -> int:
        return self.generations * PUBLISHED_BYTES_PER_GENERATION

    @property
    def model_bytes(self) -> int:
        total = 0.0
        for m in self.models:
            if m.bytes_on_disk is not None:
                total += m.bytes_on_disk
            elif m.stated_gb is not None:
                total += m.stated_gb * 1e9
        return int(total)


def makespan(jobs: list[tuple[float, int]], slots: int) -> float:
    """When the last of `jobs` (duration, slots taken) ends: longest first, each started as
    soon as enough slots are free, a later one going first when an earlier one does not fit."""
    waiting = sorted(jobs, key=lambda job: -job[0])
    running: list[tuple[float, int]] = []  # (end, slots)
    now, free = 0.0, slots
    while waiting or running:
        for job in list(waiting):
            if job[1] <= free:
                waiting.remove(job)
                running.append((now + job[0], job[1]))
                free -= job[1]
        if not running:
            break
        running.sort()
        now, taken = running.pop(0)
        free += taken
    return now


def _has_local_data(source: BatterySource) -> bool:
    if source.path is not None:
        return True
    if source.benchmark not in BUILTINS:
        return False
    return bool(source.data_dir or os.environ.get(DATA_DIR_ENV))


def _declared(source: BatterySource) -> dict[str, int]:
    """Items per task the source yields, from the benchmark's declared sizes."""
    benchmark = BUILTINS.get(source.benchmark)
    if benchmark is None or benchmark.sizes is None or source.jailbreak:
        raise ConfigError(
            f"benchmark {source.benchmark!r}: its item counts need the data; set "
            f"{DATA_DIR_ENV} to a local mirror (e.g. ../shared/data)"
        )
    sizes = dict(benchmark.sizes)
    if source.subset is not None:
        sizes = dict((benchmark.subset_sizes or {}).get(source.subset, {}))
        if not sizes:
            raise ConfigError(f"benchmark {source.benchmark!r}: unknown subset {source.subset!r}")
    tasks = source.tasks if source.tasks is not None else list(sizes)
    return {t: min(sizes.get(t, 0), source.limit or sizes.get(t, 0)) for t in tasks}


def _declared_arm(config: ExperimentConfig, arm: Arm) -> tuple[int, bool]:
    total, exact = 0, True
    for source in config.battery:
        per_task = _declared(source)
        if arm.subset is None:
            total += sum(per_task.values())
            continue
        benchmark = BUILTINS[source.benchmark]
        subset = (benchmark.subset_sizes or {}).get(arm.subset)
        if subset is None:
            raise ConfigError(f"arm {arm.name}: benchmark {source.benchmark!r} has no subset")
        for task, n in per_task.items():
            whole = (benchmark.sizes or {}).get(task, 0)
            inside = subset.get(task, 0)
            total += min(n, inside)
            # A limited draw keeps an unknown share of a task only partly in the subset.
            exact = exact and (n == whole or inside in (0, whole))
    return total, exact


def _speculation(arm: Arm) -> str:
    spec = arm.speculative
    if spec is None:
        return "none"
    label = f"{spec.method} N={spec.num_speculative_tokens}"
    if spec.acceptance:
        label += f" {spec.acceptance}"
    return label + (f" draft={spec.model}" if spec.model else "")


def _hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
    return Path(home) / "hub"


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in model_files(folder))


def _model_plan(model: str, revision: str | None, loaded: Loaded) -> ModelPlan:
    ref = loaded.expanded.models.get(model) if loaded.expanded else None
    stated = ref.size_gb if ref else None
    note = ref.note if ref else ""
    local = Path(model)
    if local.is_dir():
        return ModelPlan(model, revision, True, _folder_bytes(local), stated, note)
    if is_hub_id(model):
        cached = _hub_cache() / ("models--" + model.replace("/", "--")) / "blobs"
        size = _folder_bytes(cached) if cached.is_dir() else None
        return ModelPlan(model, revision, False, size, stated, note)
    return ModelPlan(model, revision, True, None, stated, note or "not present")


def _models(config: ExperimentConfig, loaded: Loaded) -> list[ModelPlan]:
    seen: dict[tuple[str, str | None], ModelPlan] = {}
    for arm in config.arms:
        wanted = [(arm.target, arm.revision)]
        if arm.speculative is not None and arm.speculative.model:
            wanted.append((arm.speculative.model, arm.speculative.revision))
        for model, revision in wanted:
            if (model, revision) not in seen:
                seen[(model, revision)] = _model_plan(model, revision, loaded)
    return list(seen.values())


def make_plan(loaded: Loaded, tokens_per_s: float) -> Plan:
    config = loaded.config
    if all(_has_local_data(s) for s in config.battery):
        items = build_battery(config)
        counts = {arm.name: (len(arm_items(items, arm)), True) for arm in config.arms}
        counted_from = "the data (exact)"
    else:
        counts = {arm.name: _declared_arm(config, arm) for arm in config.arms}
        counted_from = f"the battery's declared sizes (no {DATA_DIR_ENV})"
    arms = [
        ArmPlan(
            arm=arm.name,
            pair=arm.pair,
            group=loaded.expanded.group_of(arm.name) if loaded.expanded else "-",
            phase=loaded.expanded.phase_of(arm.name) if loaded.expanded else "-",
            speculation=_speculation(arm),
            items=counts[arm.name][0],
            exact=counts[arm.name][1],
            gpus=0 if arm.endpoint is not None else arm_tensor_parallel(arm, config.engine),
        )
        for arm in config.arms
    ]
    phases, groups = Counter[str](), Counter[str]()
    for a in arms:
        phases[a.phase] += a.items
        groups[a.group] += a.items
    return Plan(
        experiment=config.experiment,
        counted_from=counted_from,
        arms=arms,
        models=_models(config, loaded),
        max_tokens=config.engine.max_tokens,
        tokens_per_s=tokens_per_s,
        phases=dict(sorted(phases.items())),
        groups=dict(groups),
    )
