"""Generate stage: run every arm in an engine process (tais.generate.worker_pool), resumably.

The arm's items, in battery order, are cut into fixed chunks of `engine.batch_size` (see
`battery_chunks`); a chunk may span tasks, since each output carries its own speculative
counters. A chunk counts as done only once its ChunkStat line is on disk, which is written
after its generations; a killed run redoes the unfinished chunk with the same batch
composition, so the final records equal an uninterrupted run's.
"""

from __future__ import annotations

from tais.battery.battery import arm_items
from tais.config.config import (
    ExperimentConfig,
)
from tais.config.places import RunPlaces
from tais.generate.arm_store import ArmStore
from tais.generate.arms import (
    GenerateProgress,
    Job,
    arm_complete,
    arm_fingerprint,
    check_fingerprint,
    output_key,
    resolved_engine,
)
from tais.generate.backends.vllm_offline import check_model_path
from tais.generate.executors.base import ArmJob, Executor
from tais.io import (
    read_jsonl,
    write_jsonl,
)
from tais.records import ArmRun, Generation, Item, require_unique


def generate(
    config: ExperimentConfig,
    items: list[Item],
    places: RunPlaces,
    progress: GenerateProgress,
    store: ArmStore | None = None,
    executor: Executor | None = None,
) -> dict[str, ArmRun]:
    """Run all arms; returns each arm's ArmRun. Raw generations stay in runs/.

    With a `store`, an arm another experiment already generated (same output key) is copied
    from it instead of generated, and every arm generated here is kept there for others.
    The `executor` (default: local) runs the arms not copied; this process writes runs/.
    """
    if executor is None:
        from tais.generate.executors.local import LocalExecutor

        executor = LocalExecutor()
    per_arm = {arm.name: arm_items(items, arm) for arm in config.arms}
    for arm in config.arms:
        if arm.endpoint is not None:
            continue  # the server holds the models
        check_model_path(arm.target, f"arm {arm.name}: target")
        if arm.speculative is not None and arm.speculative.model:
            check_model_path(arm.speculative.model, f"arm {arm.name}: draft")
    write_jsonl(places.battery, items)
    keys: dict[str, str | None] = {}
    to_run: list[ArmJob] = []
    # An arm with the same output key as one generated here is copied once that one is done.
    copy_after: list[tuple[Job, str]] = []
    for arm in config.arms:
        mine = per_arm[arm.name]
        battery = places.battery
        if arm.subset is not None:
            battery = places.arm_battery(arm.name)
            write_jsonl(battery, mine)
        fingerprint = arm_fingerprint(arm, config.engine, mine)
        check_fingerprint(places, arm.name, fingerprint)
        job = Job(
            experiment=config.experiment,
            arm=arm,
            engine=config.engine,
            run_root=str(places.root),
            battery=str(battery),
            fingerprint=fingerprint,
        )
        key = keys[arm.name] = output_key(arm, config.engine, mine) if store is not None else None
        complete = arm_complete(places, arm.name, mine, config.engine.batch_size)
        if store is not None and key is not None and not complete and store.has(key):
            _fetch(store, key, job, places, progress)
        elif key is not None and not complete and key in {keys[j.arm] for j in to_run}:
            copy_after.append((job, key))
        else:
            to_run.append(ArmJob(job, mine))

    def keep(done: ArmJob) -> None:
        key = keys[done.arm]
        if store is not None and key is not None and _arm_run(places, done.arm).reused_from is None:
            store.put(key, places, done.arm, config.experiment)

    executor.run(to_run, places, progress, keep)
    for job, key in copy_after:
        assert store is not None
        _fetch(store, key, job, places, progress)
    return {arm.name: _arm_run(places, arm.name) for arm in config.arms}


def _arm_run(places: RunPlaces, arm: str) -> ArmRun:
    return ArmRun.model_validate_json(places.arm_run(arm).read_text())


def _fetch(
    store: ArmStore, key: str, job: Job, places: RunPlaces, progress: GenerateProgress
) -> None:
    arm = job.arm
    engine = resolved_engine(arm, job.engine)
    origin = store.fetch(key, places, arm.name, arm.pair, job.fingerprint, engine)
    progress.arm_reused(arm.name, origin.label())


def load_generations(places: RunPlaces, arm: str) -> list[Generation]:
    path = places.generations(arm)
    generations = read_jsonl(path, Generation)
    require_unique(generations, str(path))
    return generations
