"""Generate stage: run every arm in an engine process (tais.worker_pool), resumably.

The arm's items, in battery order, are cut into fixed chunks of `engine.batch_size` (see
`battery_chunks`); a chunk may span tasks, since each output carries its own speculative
counters. A chunk counts as done only once its ChunkStat line is on disk, which is written
after its generations; a killed run redoes the unfinished chunk with the same batch
composition, so the final records equal an uninterrupted run's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from tais import model_hash
from tais.arm_store import ArmStore
from tais.backends.vllm_offline import check_model_path, speculative_config
from tais.battery import arm_items
from tais.config import (
    HOW_ONLY,
    TRANSPORT_ONLY,
    Arm,
    Engine,
    ExperimentConfig,
    Strict,
    arm_backend,
    arm_http,
)
from tais.errors import DataError
from tais.executors.base import ArmJob, Executor
from tais.io import (
    atomic_write_text,
    canonical_json,
    read_intact_prefix,
    read_jsonl,
    sha256_text,
    write_jsonl,
)
from tais.model_hash import model_identity
from tais.places import RunPlaces
from tais.records import ArmRun, ChunkStat, Generation, Item, require_unique
from tais.worker_pool import WorkerPool


class Job(Strict):
    """What one engine process is asked to do."""

    experiment: str
    arm: Arm
    engine: Engine
    run_root: str
    battery: str  # the arm's items (JSONL)
    fingerprint: str


class GenerateProgress(Protocol):
    def arm_started(self, arm: str, total: int, done: int) -> None: ...

    def arm_advanced(self, arm: str, done: int) -> None: ...

    def arm_finished(self, arm: str, skipped: bool) -> None: ...

    def arm_reused(self, arm: str, origin: str) -> None: ...


# Enters every arm's fingerprint: how items are batched can change outputs.
CHUNKING = "battery-order"


def battery_chunks(items: list[Item], size: int) -> list[list[Item]]:
    """`items` (the id-sorted battery) cut into chunks of `size`, the last one shorter.

    Tasks are not kept apart: the engine is kept full across them. The plan depends on the
    items and the size alone, so a resumed run cuts the same chunks.
    """
    return [items[start : start + size] for start in range(0, len(items), size)]


def _arm_digest(
    labels: dict[str, object], arm: Arm, engine: Engine, items: list[Item], hash_cache: Path
) -> str:
    payload: dict[str, object] = {
        "arm": labels,
        "chunking": CHUNKING,
        "engine": engine.model_dump(mode="json", exclude=HOW_ONLY),
        "items": [item.model_dump(mode="json") for item in items],
        "models": _models(arm, hash_cache),
    }
    if arm_backend(arm, engine) == "openai":
        # How many requests share the server's batches: the batch-invariance question.
        payload["concurrency"] = arm_http(arm, engine).concurrency
    return sha256_text(canonical_json(payload))


def _models(arm: Arm, hash_cache: Path) -> dict[str, object]:
    models: dict[str, object] = {"target": model_identity(arm.target, hash_cache)}
    if arm.speculative is not None and arm.speculative.model:
        models["draft"] = model_identity(arm.speculative.model, hash_cache)
    return models


def arm_fingerprint(
    arm: Arm, engine: Engine, items: list[Item], hash_cache: Path = model_hash.CACHE
) -> str:
    """Everything an arm's outputs depend on: its config, the engine, the items, the models' bytes.

    The models enter by content, not path: `make models` retrains into the same folders.
    How a server is reached (timeouts, retries, the API key's variable) is left out: it does
    not change what the server answers.
    """
    labels = arm.model_dump(mode="json", exclude=TRANSPORT_ONLY)
    return _arm_digest(labels, arm, engine, items, hash_cache)


def output_key(
    arm: Arm, engine: Engine, items: list[Item], hash_cache: Path = model_hash.CACHE
) -> str:
    """The fingerprint without the arm's labels (name, pair): arms with the same key produce
    the same outputs whatever experiment lists them (the shared arm store's key)."""
    labels = arm.model_dump(mode="json", exclude={**TRANSPORT_ONLY, "name": True, "pair": True})
    return _arm_digest(labels, arm, engine, items, hash_cache)


def resolved_engine(arm: Arm, engine: Engine) -> dict[str, Any]:
    """The engine settings this arm actually ran with: the arm's overrides win.

    With `acceptance` set, `speculative_config` adds what vLLM was given in its own field
    names; without it the two are the same, and runs published before the key existed keep
    their bytes. An arm served over HTTP records its backend and request settings.
    """
    resolved = {
        **engine.model_dump(mode="json", exclude={"executor"}),
        **arm.model_dump(mode="json", exclude={"dtype", "seed", "backend", "http"}),
        "dtype": arm.dtype or engine.dtype,
        "seed": arm.seed if arm.seed is not None else engine.seed,
    }
    resolved["backend"] = backend = arm_backend(arm, engine)
    resolved.pop("http", None)
    if backend == "openai":
        resolved["http"] = arm_http(arm, engine).model_dump(mode="json")
    if arm.speculative is not None and arm.speculative.acceptance is not None:
        resolved["speculative_config"] = speculative_config(arm)
    return resolved


def recover_arm(places: RunPlaces, arm: str) -> dict[int, ChunkStat]:
    """Trim an arm's raw files to whole chunks and return the finished chunks' stats."""
    stats_path, gens_path = places.chunks(arm), places.generations(arm)
    stats: dict[int, ChunkStat] = {}
    for stat in read_intact_prefix(stats_path, ChunkStat):
        stats.setdefault(stat.chunk, stat)
    gens = [g for g in read_intact_prefix(gens_path, Generation) if g.chunk in stats]
    if stats_path.exists():
        write_jsonl(stats_path, [stats[chunk] for chunk in sorted(stats)])
    if gens_path.exists():
        write_jsonl(gens_path, gens)
    return stats


def check_fingerprint(places: RunPlaces, arm: str, fingerprint: str) -> None:
    path = places.fingerprint(arm)
    if path.exists() and path.read_text(encoding="utf-8").strip() != fingerprint:
        # Deleting the arm's files is safe: judgements are cached by item, output text and
        # judge, so the new outputs are judged afresh wherever they differ.
        raise DataError(
            f"{places.root}: arm {arm!r} was generated with a different config, battery or "
            f"model files; use a new experiment name, or delete "
            f"{places.generations(arm).parent}/{arm}.* to generate the arm again"
        )
    atomic_write_text(path, fingerprint + "\n")


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def run_arm(
    job: Job, places: RunPlaces, items: list[Item], progress: GenerateProgress, pool: WorkerPool
) -> None:
    """Run one arm in an engine process unless every chunk is already on disk."""
    name = job.arm.name
    total_chunks = len(battery_chunks(items, job.engine.batch_size))
    done = recover_arm(places, name)
    if len(done) == total_chunks and places.arm_run(name).exists():
        progress.arm_finished(name, skipped=True)
        return
    atomic_write_text(places.job(name), job.model_dump_json(indent=2) + "\n")
    log = places.log(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    progress.arm_started(name, len(items), _count_lines(places.generations(name)))

    def advanced() -> None:
        progress.arm_advanced(name, _count_lines(places.generations(name)))

    pool.run(places.job(name), log, name, advanced)
    advanced()
    progress.arm_finished(name, skipped=False)


def _complete(places: RunPlaces, arm: str, items: list[Item], batch_size: int) -> bool:
    if not places.arm_run(arm).exists():
        return False
    return len(recover_arm(places, arm)) == len(battery_chunks(items, batch_size))


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
        from tais.executors.local import LocalExecutor

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
        complete = _complete(places, arm.name, mine, config.engine.batch_size)
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
