"""The screen end to end: battery -> generate -> judge -> analyse -> publish (+ manifest)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from tais.analysis.summary import Summary
from tais.battery.battery import build_battery
from tais.config.config import Executor as ExecutorName
from tais.config.config import ExperimentConfig
from tais.config.places import RunPlaces
from tais.config.profiles import Loaded, load_experiment, resolved_yaml
from tais.errors import ConfigError
from tais.generate.arm_store import ArmStore
from tais.generate.arms import GenerateProgress
from tais.generate.batch_invariance import (
    compute_capabilities,
    unsupported_reason,
    without_batch_invariant,
)
from tais.generate.executors import Executor, make_executor
from tais.generate.fit import fit_battery
from tais.generate.generate import generate, load_generations
from tais.generate.runlock import run_lock
from tais.judge.judge import judge_outputs
from tais.publish.manifest import write_manifest
from tais.publish.provenance import SourceState, require_clean, source_state
from tais.publish.publish import publish


@dataclass(frozen=True)
class ScreenResult:
    summary: Summary
    out_dir: Path
    judge_calls: dict[str, dict[str, int]]
    too_long: dict[str, int]
    # What the platform could not run, each with its reason (printed by the CLI).
    skipped: list[str] = field(default_factory=list)


def run_screen(
    config_path: Path,
    progress: GenerateProgress,
    runs_dir: Path = Path("runs"),
    root: Path = Path("."),
    allow_dirty: bool = False,
    profile: str | None = None,
    limit: int | None = None,
    executor: ExecutorName | None = None,
    address: str | None = None,
) -> ScreenResult:
    """Screen the experiment of `config_path` (for `profile`, at most `limit` items per task).

    Arms are shared through runs_dir/_arms/ with every other experiment run there. They run
    where `executor` says (else the config's `engine.executor`); `address` is a Ray cluster's.
    """
    loaded = load_experiment(config_path, profile, limit)
    skipped: list[str] = []
    if any(arm.batch_invariant for arm in loaded.config.arms):
        reason = unsupported_reason(compute_capabilities())
        if reason is not None:
            kept = without_batch_invariant(loaded.config)
            gone = sorted({a.name for a in loaded.config.arms} - {a.name for a in kept.arms})
            skipped.append(f"batch-invariant arms skipped ({', '.join(gone)}): {reason}")
            text = resolved_yaml(kept, config_path, profile)
            loaded = replace(loaded, config=kept, text=text)
    config = loaded.config
    chosen = executor or config.engine.executor
    if address is not None and chosen != "ray":
        raise ConfigError("a cluster address is for the ray executor (--executor ray)")
    runner = make_executor(chosen, address)
    # Checked before hours of generation, not after.
    source = source_state(root)
    require_clean(source, allow_dirty)
    places = RunPlaces.for_experiment(runs_dir, config.experiment)
    store = ArmStore.in_runs(runs_dir)
    with run_lock(places):
        result = _screen(config, loaded, places, store, runner, progress, root, source)
    return replace(result, skipped=skipped)


def _screen(
    config: ExperimentConfig,
    loaded: Loaded,
    places: RunPlaces,
    store: ArmStore,
    executor: Executor,
    progress: GenerateProgress,
    root: Path,
    source: SourceState,
) -> ScreenResult:
    fitted = fit_battery(config, build_battery(config))
    items = fitted.items
    arm_runs = generate(config, items, places, progress, store, executor)
    generations = [g for arm in config.arms for g in load_generations(places, arm.name)]
    judged = judge_outputs(
        config.judge_specs(), items, generations, places, seed=config.engine.seed
    )
    out_dir = root / "validation" / config.experiment
    summary = publish(
        config,
        loaded.text,
        items,
        generations,
        judged,
        list(arm_runs.values()),
        out_dir,
        source,
        fitted.dropped,
        loaded.hub_models,
    )
    write_manifest(root)
    calls = {name: stats.counts() for name, stats in judged.stats.items()}
    return ScreenResult(
        summary=summary, out_dir=out_dir, judge_calls=calls, too_long=fitted.dropped
    )
