"""The screen end to end: battery -> generate -> judge -> analyse -> publish (+ manifest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tais.battery import build_battery
from tais.config import ExperimentConfig, load_config
from tais.fit import fit_battery
from tais.generate import GenerateProgress, generate, load_generations
from tais.judge import judge_outputs
from tais.manifest import write_manifest
from tais.places import RunPlaces
from tais.provenance import SourceState, require_clean, source_state
from tais.publish import publish
from tais.runlock import run_lock
from tais.summary import Summary


@dataclass(frozen=True)
class ScreenResult:
    summary: Summary
    out_dir: Path
    judge_calls: dict[str, dict[str, int]]
    too_long: dict[str, int]


def run_screen(
    config_path: Path,
    progress: GenerateProgress,
    runs_dir: Path = Path("runs"),
    root: Path = Path("."),
    allow_dirty: bool = False,
) -> ScreenResult:
    config = load_config(config_path)
    # Checked before hours of generation, not after.
    source = source_state(root)
    require_clean(source, allow_dirty)
    places = RunPlaces.for_experiment(runs_dir, config.experiment)
    with run_lock(places):
        return _screen(config, config_path, places, progress, root, source)


def _screen(
    config: ExperimentConfig,
    config_path: Path,
    places: RunPlaces,
    progress: GenerateProgress,
    root: Path,
    source: SourceState,
) -> ScreenResult:
    fitted = fit_battery(config, build_battery(config))
    items = fitted.items
    arm_runs = generate(config, items, places, progress)
    generations = [g for arm in config.arms for g in load_generations(places, arm.name)]
    judged = judge_outputs(
        config.judge_specs(), items, generations, places, seed=config.engine.seed
    )
    out_dir = root / "validation" / config.experiment
    summary = publish(
        config,
        config_path.read_text(encoding="utf-8"),
        items,
        generations,
        judged,
        list(arm_runs.values()),
        out_dir,
        source,
        fitted.dropped,
    )
    write_manifest(root)
    calls = {name: stats.counts() for name, stats in judged.stats.items()}
    return ScreenResult(
        summary=summary, out_dir=out_dir, judge_calls=calls, too_long=fitted.dropped
    )
